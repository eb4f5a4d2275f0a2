"""Settings: Powertools users configure logging and metrics with Powertools' own variables, read as
Powertools reads them; the older AUTHORIZER_* names still work; anything unreadable is refused."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from authorizer import handler
from authorizer.event.builder import RequestSpec
from authorizer.settings import Settings, SettingsError

OPEN = "version: 1\nrules:\n  - {name: open, effect: allow}\n"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.policy, settings.response, settings.refresh_seconds) == ("policy.yaml", None, 60)
    assert (settings.service, settings.log_level) == ("authorizer", "INFO")
    assert (settings.metrics, settings.metrics_namespace) == (True, "Authorizer")


@pytest.mark.parametrize(
    ("env", "level"),
    [
        ({"POWERTOOLS_LOG_LEVEL": "warning"}, "WARNING"),
        ({"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "ERROR"),  # Lambda's advanced logging controls
        ({"POWERTOOLS_LOG_LEVEL": "DEBUG", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}, "DEBUG"),  # Powertools' wins
    ],
)
def test_log_level(env: dict[str, str], level: str) -> None:
    assert Settings.from_env(env).log_level == level


VALUES = [None, "true", "false", "1", "0", "yes", "off"]


@pytest.mark.parametrize(("disabled", "dev"), list(itertools.product(VALUES, VALUES)))
def test_metrics_are_off_exactly_when_powertools_would_turn_them_off(
    monkeypatch: pytest.MonkeyPatch, disabled: str | None, dev: str | None
) -> None:
    env = {k: v for k, v in (("POWERTOOLS_METRICS_DISABLED", disabled), ("POWERTOOLS_DEV", dev)) if v is not None}
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env(env).metrics is not is_metrics_disabled()  # Powertools' own rule as the oracle


@pytest.mark.parametrize(
    ("env", "on", "namespace"),
    [
        ({"AUTHORIZER_METRICS": "false"}, False, "Authorizer"),
        ({"AUTHORIZER_METRICS": "true", "POWERTOOLS_METRICS_DISABLED": "true"}, False, "Authorizer"),
        ({"AUTHORIZER_METRICS_NAMESPACE": "Old"}, True, "Old"),
        ({"AUTHORIZER_METRICS_NAMESPACE": "Old", "POWERTOOLS_METRICS_NAMESPACE": "New"}, True, "New"),
    ],
)
def test_the_older_names_still_work_and_powertools_wins(env: dict[str, str], on: bool, namespace: str) -> None:
    settings = Settings.from_env(env)
    assert (settings.metrics, settings.metrics_namespace) == (on, namespace)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POWERTOOLS_LOG_LEVEL": "LOUD"}, "POWERTOOLS_LOG_LEVEL must be"),
        ({"POWERTOOLS_METRICS_DISABLED": "maybe"}, "POWERTOOLS_METRICS_DISABLED must be true or false"),
        ({"POWERTOOLS_SERVICE_NAME": " "}, "POWERTOOLS_SERVICE_NAME is empty"),
        ({"AUTHORIZER_RESPONSE": "fancy"}, "AUTHORIZER_RESPONSE must be iam or simple"),
        ({"AUTHORIZER_REFRESH_SECONDS": "1m"}, "whole number of seconds"),
        ({"AUTHORIZER_METRIC": "false"}, "did you mean AUTHORIZER_METRICS?"),
    ],
)
def test_what_cannot_be_read_is_an_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("?", r"\?")):
        Settings.from_env(env)


def test_the_handler_applies_them(use_policy: Any, log_output: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The service names every line and the metrics' dimension; the namespace is the metric's; a level
    above INFO leaves the metric alone, as Powertools writes it."""
    use_policy(OPEN, POWERTOOLS_SERVICE_NAME="payments", POWERTOOLS_METRICS_NAMESPACE="Shop", AUTHORIZER_METRICS="true")
    handler.lambda_handler(RequestSpec().to_event("rest"), None)
    line = json.loads(log_output.getvalue().splitlines()[-1])
    assert (line["service"], line["_aws"]["CloudWatchMetrics"][0]["Namespace"], line["Allow"]) == (
        "payments",
        "Shop",
        1,
    )
    use_policy(OPEN, POWERTOOLS_LOG_LEVEL="WARNING", AUTHORIZER_METRICS="true")
    capsys.readouterr()
    handler.lambda_handler(RequestSpec().to_event("rest"), None)
    alone = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert "message" not in alone and alone["Allow"] == 1 and alone["service"] == "payments"


def test_settings_that_cannot_be_read_refuse_every_request(use_policy: Any, log_output: Any) -> None:
    use_policy(OPEN, POWERTOOLS_METRICS_DISABLED="maybe")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler.lambda_handler(RequestSpec().to_event("rest"), None)
    assert "POWERTOOLS_METRICS_DISABLED must be true or false" in log_output.getvalue()
