"""Turn pydantic's validation errors into short messages with did-you-mean.

Pydantic reports a location path and a type; a policy author wants "unknown key 'efect' in rule;
did you mean 'effect'?". The models are walked along the error's path to find which keys were
allowed there.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from authorizer.policy.errors import Loc
from authorizer.policy.model import FromRequest, Operators, Policy, When
from authorizer.policy.sensitivity import NOT_SHOWN, under_secret

_TAGS = {"operators:": Operators, "one-of:": None, "equals:": None}  # Condition's union tags


def _flatten(annotation: Any) -> list[Any]:
    """The alternatives an annotation stands for, through Annotated and unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _flatten(arg)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    if isinstance(part, str) and part in _TAGS:
        return _TAGS[part]
    for candidate in _flatten(annotation):
        origin = typing.get_origin(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            fields = {f.alias or n: f.annotation for n, f in candidate.model_fields.items()}
            if part in fields:
                return fields[part]
            if candidate is When and isinstance(part, str):
                return Operators  # an identity source's condition
        elif origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
        elif origin is dict and isinstance(part, str):
            return typing.get_args(candidate)[1]
    return None


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model whose keys apply at `loc` (the parent of an offending key)."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
    models = [c for c in _flatten(current) if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _allowed(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


_MEMBER_NAMES = {
    "str": "a string",
    "constrained-str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "FromRequest": "{from: SOURCE}",
    "Operators": "a mapping of operators",
    "When": "a mapping of conditions",
}


def _member(part: Any) -> str | None:
    """Pydantic names union members in error paths (`str`, `list[...]`, `FromRequest`)."""
    if not isinstance(part, str):
        return None
    if part in _MEMBER_NAMES:
        return _MEMBER_NAMES[part]
    if part.startswith("list["):
        return "a list"
    if part.startswith("dict["):
        return "a mapping"
    return None


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel] = Policy, sensitive: frozenset[str] = frozenset()
) -> list[tuple[Loc, str, bool]]:
    """(location, message, points-at-key) for each problem; union alternatives folded into one.

    `root` is the model that was validated (a policy by default; test suites reuse this). Under a
    condition on one of the `sensitive` sources (sensitivity.py) nothing written is quoted: neither
    the value nor a key."""
    out: list[tuple[Loc, str, bool]] = []
    mismatches: dict[Loc, list[str]] = {}
    errors = exc.errors(include_url=False)
    deep: list[Loc] = []
    inputs: dict[Loc, Any] = {}
    stray = _stray_alternatives(errors)
    for err in errors:
        raw = err["loc"]
        loc: Loc = tuple(p for p in raw if p not in _TAGS and _member(p) is None)
        cut = next((i for i in range(len(raw)) if tuple(raw[: i + 1]) in stray), None)
        if cut is not None:  # reported as a type mismatch of the union, below
            union_loc = tuple(p for p in raw[:cut] if p not in _TAGS and _member(p) is None)
            mismatches.setdefault(union_loc, []).append(_member(raw[cut]) or "")
            continue
        if raw and _member(raw[-1]) is not None and err["type"].endswith("_type"):
            mismatches.setdefault(loc, []).append(_member(raw[-1]) or "")
            inputs[loc] = err["input"]
            continue
        deep.append(loc)
        kind, at_key = err["type"], False
        secret = under_secret(loc, sensitive)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            parent = _UNION_MODELS.get(str(raw[-2])) if len(raw) > 1 else None
            parent = parent or _model_at(tuple(raw[:-1]), root)
            allowed = _allowed(parent) if parent else []
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}" if allowed else ""
            message, at_key = f"unknown key {f'({NOT_SHOWN})' if secret else repr(key)}{hint}", True
        elif kind == "missing":
            message = f"missing required key {loc[-1]!r}"
            loc = loc[:-1]
        elif kind == "literal_error" and secret:
            message = f"this value ({NOT_SHOWN}) is not allowed here; expected {err.get('ctx', {}).get('expected', '')}"
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{err['input']!r} is not allowed here; expected {expected}"
            close = difflib.get_close_matches(str(err["input"]), re.findall(r"'([^']*)'", expected), n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
            message += _yaml_hint(err["input"])
        else:
            message = f"{_field(loc)}: {err['msg'][0].lower()}{err['msg'][1:]}{_yaml_hint(err['input'])}"
        out.append((loc, message, at_key))
    for loc, kinds in mismatches.items():
        if any(d[: len(loc)] == loc for d in deep):
            continue  # a closer explanation from one alternative (inside it, or at it) was already given
        expected = ", ".join(dict.fromkeys(kinds))
        out.append((loc, f"{_field(loc)}: expected {expected}{_yaml_hint(inputs.get(loc))}", False))
    unique = dict.fromkeys(out)
    return list(unique)


_UNION_MODELS: dict[str, type[BaseModel]] = {"FromRequest": FromRequest}


def _stray_alternatives(errors: list[Any]) -> set[Loc]:
    """Model alternatives of a union that the input was plainly not meant as: it has none of the
    model's keys, nor one close to them (`{name: x}` for a context value). Those are reported as a
    type mismatch ("expected a string, ..., {from: SOURCE}"), not as missing and unknown keys."""
    groups: dict[Loc, list[Any]] = {}
    for err in errors:
        raw = tuple(err["loc"])
        at = next((i for i, p in enumerate(raw) if p in _UNION_MODELS), None)
        if at is not None and at < len(raw) - 1:
            groups.setdefault(raw[: at + 1], []).append(err)
    stray = set()
    for prefix, errs in groups.items():
        allowed = _allowed(_UNION_MODELS[str(prefix[-1])])
        kinds = {e["type"] for e in errs}
        extras = [str(e["loc"][-1]) for e in errs if e["type"] == "extra_forbidden"]
        meant = any(difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) for key in extras)
        if kinds <= {"missing", "extra_forbidden"} and "missing" in kinds and not meant:
            stray.add(prefix)
    return stray


def _yaml_hint(value: Any) -> str:
    """YAML 1.1 reads yes/no/on/off as booleans and 0123 as numbers: say so."""
    if isinstance(value, bool):
        return ' (YAML read a boolean here: quote the value, e.g. "no")'
    if value is None:
        return " (YAML read null here: an empty value, ~ or null; quote it if it is text)"
    return ""


def _field(loc: Loc) -> str:
    names = [str(p) for p in loc if isinstance(p, str)]
    if not names:
        return "policy"
    name = names[-1]
    return name if name.isprintable() and name.strip() == name != "" else repr(name)  # one line, blanks visible
