"""Deployment settings, read once per cold start from the environment.

Powertools users configure logging and metrics with Powertools' own variables, and so they do here:

| variable | default | meaning |
|---|---|---|
| AUTHORIZER_POLICY | policy.yaml | where the policy is: a file path, or S3, SSM, AppConfig (`authorizer.stores`) |
| AUTHORIZER_RESPONSE | (the policy's) | `iam` or `simple`: HTTP API 2.0 response format, overriding the policy |
| AUTHORIZER_REFRESH_SECONDS | 60 | how long a remote policy is used before it is fetched again |
| POWERTOOLS_SERVICE_NAME | authorizer | the `service` of every log line, and the metrics' dimension |
| POWERTOOLS_LOG_LEVEL | INFO | INFO: a line per decision; WARNING: anomalies only (else AWS_LAMBDA_LOG_LEVEL) |
| POWERTOOLS_METRICS_NAMESPACE | Authorizer | CloudWatch namespace of the Allow/Deny/Unauthorized counts |
| POWERTOOLS_METRICS_DISABLED | false | true: no metrics (as Powertools reads it, POWERTOOLS_DEV included) |

Aliases kept from before Powertools' variables were honoured: AUTHORIZER_METRICS=false disables
metrics, AUTHORIZER_METRICS_NAMESPACE names the namespace (POWERTOOLS_METRICS_NAMESPACE wins).

A small `__slots__` class rather than pydantic-settings: pydantic-settings alone costs ~0.39 s to
import on a 2-core machine, more than this package's whole cold-start budget (BENCHMARKS.md); a
handful of variables do not need it. Unknown AUTHORIZER_* variables are reported with did-you-mean.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from authorizer.stores import REFRESH_SECONDS

PREFIX = "AUTHORIZER_"
KNOWN = frozenset(PREFIX + n for n in ("POLICY", "RESPONSE", "REFRESH_SECONDS", "METRICS", "METRICS_NAMESPACE"))
_TRUE, _FALSE = ("1", "true", "yes", "on", "y", "t"), ("0", "false", "no", "off", "n", "f")


class SettingsError(ValueError):
    pass


class Settings:
    """What the environment says, checked; every value has a default."""

    __slots__ = ("log_level", "metrics", "metrics_namespace", "policy", "refresh_seconds", "response", "service")

    def __init__(
        self,
        policy: str = "policy.yaml",
        response: Literal["iam", "simple"] | None = None,
        metrics: bool = True,
        metrics_namespace: str = "Authorizer",
        refresh_seconds: int = REFRESH_SECONDS,
        service: str = "authorizer",
        log_level: str = "INFO",
    ) -> None:
        self.policy = policy
        self.response = response
        self.metrics = metrics
        self.metrics_namespace = metrics_namespace
        self.refresh_seconds = refresh_seconds
        self.service = service
        self.log_level = log_level

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        unknown = [k for k in env if k.startswith(PREFIX) and k not in KNOWN]
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(f'{k}{_hint(k)}' for k in sorted(unknown))}")
        response = env.get(PREFIX + "RESPONSE", "").strip().lower() or None
        if response not in (None, "iam", "simple"):
            raise SettingsError(f"{PREFIX}RESPONSE must be iam or simple, not {response!r}")
        log_level = (_text(env, "POWERTOOLS_LOG_LEVEL") or _text(env, "AWS_LAMBDA_LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(
                f"POWERTOOLS_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {log_level!r}"
            )
        refresh = env.get(PREFIX + "REFRESH_SECONDS", str(REFRESH_SECONDS)).strip()
        if not refresh.isdigit():
            raise SettingsError(f"{PREFIX}REFRESH_SECONDS must be a whole number of seconds, not {refresh!r}")
        return cls(
            policy=_text(env, PREFIX + "POLICY") or "policy.yaml",
            response=response,  # type: ignore[arg-type]  # checked above
            metrics=_metrics_on(env),
            metrics_namespace=_text(env, "POWERTOOLS_METRICS_NAMESPACE")
            or _text(env, PREFIX + "METRICS_NAMESPACE")
            or "Authorizer",
            refresh_seconds=int(refresh),
            service=_text(env, "POWERTOOLS_SERVICE_NAME") or "authorizer",
            log_level=log_level,
        )


def _text(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    if raw is not None and not raw.strip():
        raise SettingsError(f"{name} is empty")
    return raw.strip() if raw is not None else None


def _boolean(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _metrics_on(env: Mapping[str, str]) -> bool:
    """Powertools' rule (POWERTOOLS_METRICS_DISABLED, or POWERTOOLS_DEV without it), then our alias."""
    disabled, dev = _boolean(env, "POWERTOOLS_METRICS_DISABLED"), _boolean(env, "POWERTOOLS_DEV")
    if disabled or (dev and disabled is None):
        return False
    return _boolean(env, PREFIX + "METRICS") is not False


def _hint(name: str) -> str:
    import difflib  # only for an error: not on the cold path

    close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
