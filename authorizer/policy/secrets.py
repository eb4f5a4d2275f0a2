"""Secret values for `secret:` conditions: from an environment variable, SSM Parameter Store or Secrets
Manager (the last two through Powertools' parameters utility, cached for `max_age`).

Values are fetched when first compared, never logged, and boto3 is imported only when an SSM or
Secrets Manager secret is actually used. A fetch happens inside a request, so it gives up within API
Gateway's budget (`request_budget_config`), and a store that failed is not asked again for
`RETRY_SECONDS`: during an outage, refusals are immediate instead of each waiting for timeouts. A
secret that cannot be read (unset, empty, binary, a store that fails) is `SecretUnavailable`, whose
message names the secret and where it was looked up, never a value: its conditions are unknown
(operators.py), and a refusal says why (`unavailable`).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("authorizer.secrets")
# name → value; None or SecretUnavailable (saying why) when it cannot be read
SecretLookup = Callable[[str], str | None]
MAX_AGE_SECONDS = 300
RETRY_SECONDS = 10  # a secret that could not be fetched is unavailable this long before the next try
_AWS_CODE = re.compile(r"An error occurred \((\w+)\)")  # botocore's message, as Powertools passes it on


class SecretUnavailable(Exception):
    """A secret that cannot be read; the message names it and where it was looked up, never a value."""


def _failure(exc: Exception) -> str:
    """An AWS error code (ParameterNotFound, AccessDeniedException) or the exception's type: never its text."""
    code = _AWS_CODE.search(str(exc))
    return code[1] if code else type(exc).__name__


_STORES = {"env": "environment variable", "ssm": "SSM parameter", "secretsmanager": "Secrets Manager secret"}


def request_budget_config() -> Any:
    """botocore settings for a call made inside a request. API Gateway waits 10 s at most for an
    authorizer: fail fast (about 7 s at worst) rather than with botocore's defaults (60 s timeouts,
    several attempts), which would end in a Lambda timeout and a 500."""
    from botocore.config import Config

    return Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})


def secret_lookup(refs: Mapping[str, Mapping[str, Any]], max_age: int = MAX_AGE_SECONDS) -> SecretLookup:
    """name → current value, for the `secrets:` section of a policy; SecretUnavailable otherwise."""
    providers: dict[str, Any] = {}  # store → its Powertools provider, made on first use
    failed: dict[str, tuple[float, str]] = {}  # name → (when to try again, why)

    def fetch(store: str, where: str) -> Any:
        if store == "env":
            return os.environ.get(where)
        provider = providers.get(store)
        if provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

            config = request_budget_config()
            provider = SSMProvider(boto_config=config) if store == "ssm" else SecretsProvider(boto_config=config)
            providers[store] = provider
        if store == "ssm":
            return provider.get(where, decrypt=True, max_age=max_age)
        return provider.get(where, max_age=max_age)

    places: dict[str, tuple[str, str]] = {}  # name → (store, where in it): found once, read every request
    for name, ref in refs.items():
        store = next((kind for kind in _STORES if isinstance(ref, Mapping) and ref.get(kind)), None)
        if store is not None:
            places[name] = (store, ref[store])

    def lookup(name: str) -> str:
        place = places.get(name)
        if place is None:
            raise SecretUnavailable(f"secret {name!r}: not declared under `secrets:`")
        store, location = place
        if store == "env":  # every request reads it: the common case first
            value = os.environ.get(location)
            if value:
                return value
        where = f"{_STORES[store]} {location}"
        if name in failed:
            retry_at, why = failed[name]
            if time.monotonic() < retry_at:
                raise SecretUnavailable(why)  # a new one each time: a re-raised one grows its traceback
            del failed[name]
        try:
            value = fetch(store, location)
        except Exception as exc:  # unreachable store, missing permission, ...: unknown, never equal
            log.error("secret %r could not be fetched: %s", name, type(exc).__name__)
            why = f"secret {name!r}: {where} could not be read ({_failure(exc)})"
            failed[name] = (time.monotonic() + RETRY_SECONDS, why)
            raise SecretUnavailable(why) from None
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
