"""The pattern index (policy/index.py, regex.PatternSet): one RE2 set of every keyed rule's pattern.

It is sound only if a set answers, for every pattern, exactly what the rule's own test answers: each
operator's `pattern` (operators.py) against the operator's test, and a set of many patterns against
each pattern's own FullMatcher, over random patterns and texts (newlines, non-ASCII, lone
surrogates). Then which rules are keyed: single-valued text tests on sources bearing no secret,
enough of them, a table preferred at equal counts; a pattern RE2 refuses leaves its rule unkeyed.
(That the index never changes a decision is tests/adversarial/test_index.py's property.)
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.decide.candidates import matching
from authorizer.policy.compiler import compile_policy
from authorizer.policy.index import INDEX_MIN_RULES
from authorizer.policy.operators import OPERATORS, OperatorError, Setting
from authorizer.policy.regex import FullMatcher, PatternSet, RegexError

ALPHABET = ["a", "b", "A", "1", "-", "\n", "é", "😀", "\ud800", ".", "*", "?", "\\", "[", "\x00"]
TEXTS = st.lists(st.sampled_from(ALPHABET), max_size=6).map("".join)
ATOMS = ["a", "b", "é", ".", "\\d", "[ab]", "[^a]", "(?s).", "\\n", "\\C", "\\.", "😀", "\\x00", "\\p{L}"]


@st.composite
def regexes(draw: st.DrawFn, depth: int = 2) -> str:
    """Random RE2 patterns: atoms, repetition, alternation, groups, anchors (multi-line too), word
    boundaries, flags."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        atom = draw(st.sampled_from(ATOMS))
    else:
        parts = draw(st.lists(regexes(depth - 1), min_size=1, max_size=3))
        atom = draw(st.sampled_from(["", "|"])).join(parts)
        atom = f"({atom})" if draw(st.booleans()) else f"(?:{atom})"
    quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "{1,2}", "*?"]))
    anchors = draw(
        st.sampled_from(
            [("", ""), ("^", ""), ("", "$"), ("\\b", "\\B"), ("(?i)", ""), ("(?m)^", "$"), ("\\A", "\\z"), ("(?U)", "")]
        )
    )
    return anchors[0] + atom + quantifier + anchors[1]


def full_match(pattern: str) -> FullMatcher | None:
    try:
        return FullMatcher(pattern)
    except RegexError:
        return None


@settings(max_examples=300, deadline=None)
@given(patterns=st.lists(regexes(), min_size=1, max_size=6), texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_a_set_matches_what_each_pattern_matches(patterns: list[str], texts: list[str]) -> None:
    matchers = [full_match(p) for p in patterns]
    usable = [p for p, m in zip(patterns, matchers, strict=True) if m is not None]
    matchers = [m for m in matchers if m is not None]
    found = PatternSet(usable)
    assert found.ids == tuple(range(len(usable))), "every pattern FullMatcher takes, the set takes, ids in order"
    for text in texts:
        answer = found(text)
        assert answer is not None
        assert sorted(answer) == [i for i, m in enumerate(matchers) if m(text)], (usable, text)


@settings(max_examples=300, deadline=None)
@given(
    op=st.sampled_from(sorted(name for name, op in OPERATORS.items() if op.pattern is not None)),
    arg=TEXTS,
    texts=st.lists(TEXTS, min_size=1, max_size=8),
)
def test_an_operators_pattern_accepts_exactly_what_its_test_accepts(op: str, arg: str, texts: list[str]) -> None:
    operator = OPERATORS[op]
    assert operator.pattern is not None
    try:
        test = operator.build(arg, Setting(False, {}.get, frozenset()))
    except (OperatorError, UnicodeEncodeError):  # not a policy: an invalid regex (or one no YAML can write)
        return
    patterns = PatternSet([operator.pattern(arg)])
    if patterns.ids == (None,):  # RE2 refused it (a lone surrogate in a literal): the rule stays unkeyed
        assert "\ud800" in arg
        return
    for text in texts:
        assert (patterns(text) == [0]) is test(text), (op, arg, text)


def policy(rules: list[dict[str, Any]], redact: list[str] | None = None) -> Any:
    return compile_policy({"version": 1, "rules": rules, **({"redact": redact} if redact else {})}, secrets={}.get)


def rule(i: int, when: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"r{i}", "effect": "allow", "when": when}


def test_text_tests_on_one_source_are_keyed_in_one_set() -> None:
    ops = ["regex", "glob", "prefix", "suffix", "contains"]
    rules = [rule(i, {"header.x-user": {ops[i % 5]: f"u{i}"}}) for i in range(10)]
    rules.insert(4, rule(99, {"header.x-other": "y"}))
    index = policy(rules).index
    assert index.keyed_on == "header.x-user" and index.patterns is not None
    assert [r.name for r in index.rest] == ["r99"]
    for value, tried in [
        ("u5", ["r99", "r5"]),  # regex
        ("u6", ["r99", "r6"]),  # glob
        ("u7x", ["r99", "r7"]),  # prefix
        ("xu8", ["r99", "r8"]),  # suffix
        ("xu9x", ["r99", "r9"]),  # contains
        ("u2u3", ["r2", "r3", "r99"]),  # prefix and suffix: both, in policy order with the unkeyed rule
        ("v", ["r99"]),
    ]:
        assert [r.name for r in matching(index, [value])] == tried, value
    assert [r.name for r in matching(index, [7])] == ["r99"], "a value that is not text passes no text test"
    assert [r.name for r in matching(index, ["u5", "u6"])] == ["r99"], "several different values: no key"
    assert [r.name for r in matching(index, None)] == ["r99"], "missing: no key"


def test_several_matching_patterns_are_tried_in_policy_order() -> None:
    rules = [rule(i, {"header.x-user": {"glob": "*" if i % 3 == 0 else f"u{i}*"}}) for i in range(12)]
    index = policy(rules).index
    assert index.patterns is not None
    assert [r.name for r in matching(index, ["u4x"])] == ["r0", "r3", "r4", "r6", "r9"]


def test_what_the_pattern_index_does_not_key() -> None:
    def keyed(when: dict[str, Any], redact: list[str] | None = None) -> str | None:
        return policy([rule(i, {**when}) for i in range(INDEX_MIN_RULES)], redact).index.keyed_on

    assert keyed({"header.x-user": {"prefix": "u"}}) == "header.x-user"
    assert keyed({"header.x-user": {"prefix": "u", "values": "any"}}) is None, "another value mode"
    assert keyed({"any": [{"header.x-user": {"prefix": "u"}}]}) is None, "not a top-level condition"
    assert keyed({"header.x-user": {"not": {"prefix": "u"}}}) is None, "inside not"
    assert keyed({"header.x-api-key": {"prefix": "u"}}) is None, "a secret-bearing source: digests only"
    assert keyed({"header.x-user": {"prefix": "u"}}, redact=["header.x-user"]) is None, "redacted: secret-bearing"
    fewer = [rule(i, {"header.x-user": {"prefix": "u"}}) for i in range(INDEX_MIN_RULES - 1)]
    assert policy(fewer).index.keyed_on is None, "too few to be worth a set"


def test_a_table_is_preferred_to_a_set_for_as_many_rules() -> None:
    rules = [rule(i, {"header.x-user": {"prefix": "u"}, "header.x-key": f"k{i}"}) for i in range(INDEX_MIN_RULES)]
    index = policy(rules).index
    assert index.keyed_on == "header.x-key" and index.patterns is None
    rules.append(rule(99, {"header.x-user": {"prefix": "u"}}))
    assert policy(rules).index.patterns is not None, "the set tells more rules apart"


def test_a_pattern_re2_refuses_leaves_its_rule_unkeyed() -> None:
    """A lone surrogate (no YAML text holds one, validated data might) cannot be an RE2 pattern."""
    rules = [rule(i, {"header.x-user": {"prefix": f"u{i}"}}) for i in range(INDEX_MIN_RULES + 1)]
    rules[3]["when"]["header.x-user"]["prefix"] = "u\ud800"
    index = policy(rules).index
    assert index.patterns is not None and [r.name for r in index.rest] == ["r3"]
    assert [r.name for r in matching(index, ["u\ud800x"])] == ["r3"], "tried by every request instead"
    rules[4]["when"]["header.x-user"]["prefix"] = "v\ud800"
    assert policy(rules).index.keyed_on is None, "fewer than INDEX_MIN_RULES accepted: a scan"
