"""Secret values for `secret:` conditions: from an environment variable, SSM Parameter Store or
Secrets Manager (the last two through Powertools' parameters utility, cached for `max_age`).

Values are fetched when first compared, never logged, and boto3 is imported only when an SSM or
Secrets Manager secret is actually used. A secret that cannot be fetched compares unequal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("authorizer.secrets")
SecretLookup = Callable[[str], str | None]
MAX_AGE_SECONDS = 300


def secret_lookup(refs: Mapping[str, Mapping[str, Any]], max_age: int = MAX_AGE_SECONDS) -> SecretLookup:
    """name → current value (or None), for the `secrets:` section of a policy."""

    def lookup(name: str) -> str | None:
        ref = refs.get(name)
        if not ref:
            return None
        try:
            if ref.get("env"):
                value = os.environ.get(ref["env"])
            elif ref.get("ssm"):
                from aws_lambda_powertools.utilities.parameters import get_parameter

                value = get_parameter(ref["ssm"], decrypt=True, max_age=max_age)
            elif ref.get("secretsmanager"):
                from aws_lambda_powertools.utilities.parameters import get_secret

                value = get_secret(ref["secretsmanager"], max_age=max_age)
            else:
                return None
        except Exception as exc:  # unreachable store, missing permission, ...: compare unequal
            log.error("secret %r could not be fetched: %s", name, type(exc).__name__)
            return None
        return value if isinstance(value, str) and value else None

    return lookup
