"""`--expect FILE`: the changes a pull request means to make. A change it lists does not fail the
diff; a change it does not list does (as `--fail-on` says), and so does a listed change that did
not happen — the declaration and the policy disagree.

```yaml
changes:
  - group: widened              # widened | narrowed | 401-403 | outputs | attribution | added | removed
    policy: policies/http-routes.yaml   # optional: only this policy (the path as the diff names it)
    rule: staff-write           # optional: the rule deciding before or after
    before: null                # optional: exactly this rule before (null: no rule)
    after: staff-write          # optional: exactly this rule after
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from authorizer.diff.changes import Group
from authorizer.files import read_bytes
from authorizer.policy.load import MAX_POLICY_BYTES
from authorizer.policy.suggest import describe_validation_error
from authorizer.policy.yamlsource import YamlProblems, load_yaml

_UNSET = "\0unset"


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: Literal["widened", "narrowed", "401-403", "outputs", "attribution", "added", "removed"]
    policy: StrictStr | None = None
    rule: StrictStr | None = None
    before: StrictStr | None = Field(_UNSET)
    after: StrictStr | None = Field(_UNSET)

    def matches(self, policy: str, group: str, before: str | None = None, after: str | None = None) -> bool:
        return (
            group == self.group
            and self.policy in (None, policy)
            and (self.rule is None or self.rule in (before, after))
            and self.before in (_UNSET, before)
            and self.after in (_UNSET, after)
        )

    def matches_group(self, policy: str, group: Group) -> bool:
        return self.matches(policy, group.group, group.before_rule, group.after_rule)

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.model_dump(exclude_defaults=True).items() if v != _UNSET]
        return ", ".join(parts)


class ExpectFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: list[Expected] = Field(default_factory=list)


class ExpectError(Exception):
    """An expect file that cannot be used: one line, exit 2."""


def read_expect(path: str) -> list[Expected]:
    try:
        data, smap = load_yaml(read_bytes(path, MAX_POLICY_BYTES))
    except OSError as exc:
        raise ExpectError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except YamlProblems as exc:
        first = exc.problems[0]
        raise ExpectError(f"{path}:{first.line}:{first.col}: {first.message}") from None
    try:
        return ExpectFile.model_validate(data if data is not None else {}).changes
    except ValidationError as exc:
        loc, message, at_key = describe_validation_error(exc, root=ExpectFile)[0]
        line, col = smap.locate(loc, at_key=at_key)
        raise ExpectError(f"{path}:{line}:{col}: {message}") from None
