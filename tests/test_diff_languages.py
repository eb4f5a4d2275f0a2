"""The automata the diff searches are held to RE2 itself: for every pattern they accept, they accept
exactly the strings RE2 full-matches; what they cannot read is refused, never guessed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authorizer.diff.languages import Unanalysable, language, nonempty, split, witness
from authorizer.policy.regex import FullMatcher

PATTERNS = [
    r"[a-z][a-z0-9._-]{1,31}",
    r"[a-z0-9-]{1,32}",
    r"^abc$",
    r"a\$",
    r"\d+",
    r"\w+x",
    r"\s*",
    r"[^\d]+",
    r"(?s).*",
    r".+",
    r"a{2,3}b{,2}",
    r"x{",
    r"(?:ab|cd)*",
    r"(?P<n>a)|(?<m>b)",
    r"[\w.-]+@[\w.-]+",
    r"\.\*\?",
    r"é|A",
    r"[^,]*",
    r"a\ b",
    r"[\-a]",
]
UNREADABLE = [r"[[:alpha:]]", r"\pL", r"(?i)a", r"a\b", r"\x41", r"a^b", r"[]a]", r"\Qa\E", r"[\D]", r"a$|b"]
CHARS = st.sampled_from(list("abcdxyzAB019._-@ ,\n\t\x0b$*?{}é"))


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=200, deadline=None)
@given(text=st.lists(CHARS, max_size=7).map("".join))
def test_the_automaton_accepts_what_re2_matches(pattern: str, text: str) -> None:
    assert language("regex", pattern).accepts(text) == FullMatcher(pattern)(text)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_witnesses_are_matched_by_re2(pattern: str) -> None:
    found = witness(language("regex", pattern) & nonempty())
    assert found and FullMatcher(pattern)(found)


@pytest.mark.parametrize("pattern", UNREADABLE)
def test_unreadable_syntax_is_refused(pattern: str) -> None:
    FullMatcher(pattern)  # valid RE2: only the analysis gives up
    with pytest.raises(Unanalysable):
        language("regex", pattern)


def test_a_witness_in_each_difference_of_two_patterns() -> None:
    old, new = language("regex", r"[a-z][a-z0-9._-]{1,31}"), language("regex", r"[a-zA-Z][a-z0-9._-]{1,63}")
    cells = split(nonempty(), [old, new], 16)
    found = {
        (FullMatcher(r"[a-z][a-z0-9._-]{1,31}")(w), FullMatcher(r"[a-zA-Z][a-z0-9._-]{1,63}")(w))
        for w in map(witness, cells)
        if w
    }
    assert found == {(True, True), (False, True), (False, False)}  # old ⊂ new: no (True, False) cell
