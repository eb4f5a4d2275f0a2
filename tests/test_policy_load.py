"""Loading policies: every problem with file:line:col, YAML traps refused, the validated-data cache."""

import json

import pytest

from authorizer.policy.errors import PolicyError
from authorizer.policy.load import CACHE_DIR, load, load_file
from tests.conftest import POLICIES


def problems(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(PolicyError) as info:
        load("p.yaml", raw)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_policies_load(path):
    assert load_file(path, use_cache=False).policy.rules


def test_every_problem_is_listed_with_its_location():
    found = problems(
        """version: 1
on_no_match: unauthorised
rules:
  - name: a
    efect: allow
    when:
      headers.x: 1
      query.q: {regex: "(", cidr: nope}
"""
    )
    assert found == [
        "p.yaml:2:14: 'unauthorised' is not allowed here; expected 'unauthorized' or 'deny' "
        "(did you mean 'unauthorized'?)",
        "p.yaml:4:5: missing required key 'effect'",
        "p.yaml:5:5: unknown key 'efect'; did you mean 'effect'?",
    ]


def test_semantic_problems_after_structure_is_right():
    found = problems(
        """version: 1
rules:
  - name: a
    effect: allow
    when:
      headers.x: 1
      query.q: {regex: "(", cidr: nope}
      jmespath: "a[?"
    routes: ["GET pets", "$connect"]
  - name: a
    effect: deny
    when: {header.k: {secret: missing}}
"""
    )
    assert [f.split(": ", 1)[0] for f in found] == [
        "p.yaml:6:7",
        "p.yaml:7:24",
        "p.yaml:7:35",
        "p.yaml:8:17",
        "p.yaml:9:14",
        "p.yaml:10:11",
        "p.yaml:12:31",
    ]
    assert "did you mean 'header.x'" in found[0]
    assert "invalid regular expression" in found[1] and "invalid CIDR" in found[2]
    assert "JMESPath" in found[3] and "METHOD /path" in found[4]
    assert "duplicate rule name" in found[5] and "unknown secret" in found[6]


@pytest.mark.parametrize(
    "text,fragment",
    [
        (b"", "file is empty"),
        (b"version: 1\nversion: 1\nrules: []\n", "duplicate key 'version'"),
        (b"version: 1\nrules: !!python/object/apply:os.system [ls]\n", "not allowed"),
        (b"version: 1\nrules: [\n", "YAML syntax error"),
        (b"\xff\xfeversion: 1", "not UTF-8"),
        (b"- a\n- b\n", "a policy is a mapping"),
        (b"version: 2\nrules: []\n", "expected 1"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + i,) * 2 + (97 + i,) * 10)
                for i in range(7)
            ),
            "alias expansion bomb",
        ),
    ],
)
def test_yaml_traps(text, fragment):
    assert any(fragment in p for p in problems(text)), problems(text)


def test_validated_data_is_cached_beside_the_policy(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {name: a, effect: allow}\n")
    first = load_file(policy).policy
    cached = list((tmp_path / CACHE_DIR).iterdir())
    assert len(cached) == 1 and json.loads(cached[0].read_text())["data"]["rules"][0]["name"] == "a"
    assert load_file(policy).policy.digest == first.digest
    policy.write_text("version: 1\nrules:\n  - {name: b, effect: allow}\n")
    assert load_file(policy).policy.rules[0].name == "b", "a changed policy is never served from the cache"


def test_a_tampered_cache_entry_is_ignored(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {name: a, effect: allow}\n")
    load_file(policy)
    entry = next((tmp_path / CACHE_DIR).iterdir())
    entry.write_text("{not json")
    assert load_file(policy).policy.rules[0].name == "a"


def test_read_only_directory_just_means_no_cache(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {name: a, effect: allow}\n")
    (tmp_path / CACHE_DIR).write_text("a file where the cache directory should be")
    assert load_file(policy).policy.rules[0].name == "a"


def test_unreadable_policy_is_a_problem_not_a_traceback(tmp_path):
    with pytest.raises(PolicyError) as info:
        load_file(tmp_path / "missing.yaml")
    assert "cannot read policy" in str(info.value)
