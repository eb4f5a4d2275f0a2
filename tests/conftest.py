"""Shared fixtures: the public AWS sample events in tests/fixtures/aws-events (SOURCES.md there) and
small event builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "aws-events"
POLICIES = REPO / "policies"

# SAM CLI's own defaults for its generated-event templates (samcli event-mapping.json)
SAM_DEFAULTS = {
    "partition": "aws",
    "region": "us-east-1",
    "account_id": "123456789012",
    "restApiId": "abcdef123",
    "stage": "test",
    "method": "GET",
    "resource": "request",
}


def load_fixture(relative: str) -> dict[str, Any]:
    text = (FIXTURES / relative).read_text(encoding="utf-8-sig")
    for key, value in SAM_DEFAULTS.items():
        text = text.replace("{{{" + key + "}}}", value)
    data: dict[str, Any] = json.loads(text)
    return data


def all_fixture_paths() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.json"))


@pytest.fixture
def fixture_event():
    return load_fixture


def compile_yaml(text: str, name: str = "policy.yaml", secrets=None):
    """Compile a policy from YAML text, as the loader does (raises PolicyError)."""
    from authorizer.policy.load import load

    return load(name, text.encode(), secrets=secrets).policy


def generated_response(event: Any, policy: Any, mode: Any = None) -> Any:
    """The response the policy's generated function gives (None: Unauthorized), or FALLBACK."""
    from authorizer.decide.generated import FALLBACK, respond

    answer = respond(event, policy, mode)
    return answer if answer is FALLBACK else answer[2]


def decide_event(policy_text: str, event: dict[str, Any], **kwargs: Any):
    from authorizer.decide.engine import decide
    from authorizer.event.request import Request

    return decide(compile_yaml(policy_text, **kwargs), Request(event))


@pytest.fixture
def log_output(monkeypatch):
    """Everything the handler's Powertools logger writes, as text (its stream is bound at import)."""
    import io

    from authorizer import handler

    buffer = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", buffer)
    return buffer


@pytest.fixture
def use_policy(tmp_path, monkeypatch):
    """Write a policy and point the handler at it; the next request (or `handler.boot()`) boots fresh."""
    from authorizer import handler

    def write(text: str, **env: str):
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        monkeypatch.setenv("AUTHORIZER_POLICY", str(path))
        monkeypatch.setenv("AUTHORIZER_METRICS", "false")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        handler.reset()
        return path

    yield write
    handler.reset()
