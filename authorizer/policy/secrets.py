"""Secret values for `secret:` conditions: from an environment variable, SSM Parameter Store or
Secrets Manager (the last two through Powertools' parameters utility, cached for `max_age`).

Values are fetched when first compared, never logged, and boto3 is imported only when an SSM or
Secrets Manager secret is actually used. A secret that cannot be read (unset, empty, binary, a store
that fails) is `SecretUnavailable`, whose message names the secret and where it was looked up, never
a value: its conditions are unknown (operators.py), and a refusal says why (`unavailable`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("authorizer.secrets")
# name → value; None or SecretUnavailable (saying why) when it cannot be read
SecretLookup = Callable[[str], str | None]
MAX_AGE_SECONDS = 300
_AWS_CODE = re.compile(r"An error occurred \((\w+)\)")  # botocore's message, as Powertools passes it on


class SecretUnavailable(Exception):
    """A secret that cannot be read; the message names it and where it was looked up, never a value."""


def _failure(exc: Exception) -> str:
    """An AWS error code (ParameterNotFound, AccessDeniedException) or the exception's type: never its text."""
    code = _AWS_CODE.search(str(exc))
    return code[1] if code else type(exc).__name__


_STORES = {"env": "environment variable", "ssm": "SSM parameter", "secretsmanager": "Secrets Manager secret"}


def _fetch(store: str, where: str, max_age: int) -> Any:
    if store == "env":
        return os.environ.get(where)
    from aws_lambda_powertools.utilities.parameters import get_parameter, get_secret

    if store == "ssm":
        return get_parameter(where, decrypt=True, max_age=max_age)
    return get_secret(where, max_age=max_age)


def secret_lookup(refs: Mapping[str, Mapping[str, Any]], max_age: int = MAX_AGE_SECONDS) -> SecretLookup:
    """name → current value, for the `secrets:` section of a policy; SecretUnavailable otherwise."""

    def lookup(name: str) -> str:
        ref = refs.get(name) or {}
        store = next((kind for kind in _STORES if ref.get(kind)), None)
        if store is None:
            raise SecretUnavailable(f"secret {name!r}: not declared under `secrets:`")
        where = f"{_STORES[store]} {ref[store]}"
        try:
            value = _fetch(store, ref[store], max_age)
        except Exception as exc:  # unreachable store, missing permission, ...: unknown, never equal
            log.error("secret %r could not be fetched: %s", name, type(exc).__name__)
            reason = f"{where} could not be read ({_failure(exc)})"
            raise SecretUnavailable(f"secret {name!r}: {reason}") from None
        if value is None:
            raise SecretUnavailable(f"secret {name!r}: {where} is not set")
        if not isinstance(value, str) or not value:
            raise SecretUnavailable(f"secret {name!r}: {where} holds no text")
        return value

    return lookup


def read_secret(lookup: SecretLookup, name: str) -> str:
    """The secret's value; SecretUnavailable saying why when it cannot be read."""
    value = lookup(name)
    if not value:
        raise SecretUnavailable(f"secret {name!r}: no value")
    return value


def unavailable(lookup: SecretLookup, names: tuple[str, ...]) -> tuple[str, ...]:
    """Why each of these secrets cannot be read now (nothing when all can): what a refusal says."""
    reasons = []
    for name in names:
        try:
            read_secret(lookup, name)
        except SecretUnavailable as exc:
            reasons.append(str(exc))
    return tuple(reasons)
