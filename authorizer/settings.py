"""Deployment settings, read once per cold start from the environment.

| variable | default | meaning |
|---|---|---|
| AUTHORIZER_POLICY | policy.yaml | where the policy is: a file path, or S3, SSM, AppConfig (`authorizer.stores`) |
| AUTHORIZER_RESPONSE | (the policy's) | `iam` or `simple`: HTTP API 2.0 response format, overriding the policy |
| AUTHORIZER_METRICS | true | emit Allow/Deny/Unauthorized counts (CloudWatch EMF via Powertools Metrics) |
| AUTHORIZER_METRICS_NAMESPACE | Authorizer | CloudWatch namespace of those metrics |
| AUTHORIZER_REFRESH_SECONDS | 60 | how long a remote policy is used before it is fetched again |

Log level and service name are Powertools' own: POWERTOOLS_LOG_LEVEL, POWERTOOLS_SERVICE_NAME.

A frozen dataclass rather than pydantic-settings: pydantic-settings alone costs ~0.39 s to import
on a 2-core machine, more than this package's whole cold-start budget (BENCHMARKS.md); five
variables do not need it. Unknown AUTHORIZER_* variables are reported with did-you-mean.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal, cast

from authorizer.stores import REFRESH_SECONDS

PREFIX = "AUTHORIZER_"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    policy: str = "policy.yaml"
    response: Literal["iam", "simple"] | None = None
    metrics: bool = True
    metrics_namespace: str = "Authorizer"
    refresh_seconds: int = REFRESH_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        known = {PREFIX + f.name.upper() for f in fields(cls)}
        unknown = [k for k in env if k.startswith(PREFIX) and k not in known]
        if unknown:
            hints = [f"{k}{_hint(k, known)}" for k in sorted(unknown)]
            raise SettingsError(f"unknown setting(s): {', '.join(hints)}")
        values: dict[str, object] = {}
        for name in ("policy", "metrics_namespace"):
            raw = env.get(PREFIX + name.upper())
            if raw is not None:
                if not raw.strip():
                    raise SettingsError(f"{PREFIX}{name.upper()} is empty")
                values[name] = raw.strip()
        response = env.get(PREFIX + "RESPONSE", "").strip().lower()
        if response:
            if response not in ("iam", "simple"):
                raise SettingsError(f"{PREFIX}RESPONSE must be iam or simple, not {response!r}")
            values["response"] = cast(Literal["iam", "simple"], response)
        metrics = env.get(PREFIX + "METRICS")
        if metrics is not None:
            values["metrics"] = _boolean(PREFIX + "METRICS", metrics)
        refresh = env.get(PREFIX + "REFRESH_SECONDS")
        if refresh is not None:
            try:
                values["refresh_seconds"] = int(refresh)
            except ValueError:
                raise SettingsError(f"{PREFIX}REFRESH_SECONDS must be a whole number of seconds") from None
            if values["refresh_seconds"] < 0:  # type: ignore[operator]
                raise SettingsError(f"{PREFIX}REFRESH_SECONDS must not be negative")
        return cls(**values)  # type: ignore[arg-type]


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""
