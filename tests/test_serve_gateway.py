"""The gateway's authorizer step in-process: cache lifetime and size, policy changes, forwarded headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from authorizer.event.kinds import WEBSOCKET
from authorizer.serve import gateway as gateway_module
from authorizer.serve.gateway import Gateway, GatewayConfig, Incoming
from authorizer.serve.routes import parse_route
from authorizer.stores.file import FilePolicyStore
from tests.test_serve_support import EXAMPLE, write_policy

KEYED = """
version: 1
resource: stage
rules:
  - name: keyed
    effect: allow
    when:
      header.{header}: {{prefix: ok-}}
"""


def keyed(tmp_path: Path, header: str = "x-key") -> FilePolicyStore:
    return FilePolicyStore(str(write_policy(tmp_path / "keyed.yaml", KEYED.format(header=header))))


def incoming(path: str = "/", **headers: str) -> Incoming:
    return Incoming("GET", path, list(headers.items()), [], "192.0.2.7")


def test_cached_answers_expire_after_the_ttl(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(gateway_module.time, "monotonic", lambda: clock[0])
    gateway = Gateway(GatewayConfig(ttl=30), keyed(tmp_path))
    assert gateway.authorize(incoming(**{"x-key": "ok-1"})).cached is None
    clock[0] += 29
    assert gateway.authorize(incoming(**{"x-key": "ok-1"})).cached is not None
    clock[0] += 1
    assert gateway.authorize(incoming(**{"x-key": "ok-1"})).cached is None  # expired: decided anew


def test_refusals_and_malformed_answers_are_not_cached(tmp_path):
    gateway = Gateway(GatewayConfig(ttl=300), keyed(tmp_path))
    assert gateway.authorize(incoming(**{"x-key": "bad"})).status == 401
    assert gateway.cache == {}
    assert gateway.authorize(incoming(**{"x-key": "ok-2"})).status == 200
    assert list(gateway.cache) == [("rest", ("ok-2",))]


def test_the_cache_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(gateway_module, "MAX_CACHE_ENTRIES", 3)
    gateway = Gateway(GatewayConfig(ttl=300), keyed(tmp_path))
    for n in range(5):
        assert gateway.authorize(incoming(**{"x-key": f"ok-{n}"})).status == 200
    assert [values for _, values in gateway.cache] == [("ok-2",), ("ok-3",), ("ok-4",)]  # the oldest went first


def test_a_new_policy_flushes_the_cache_and_rederives_identity_sources(tmp_path):
    store = keyed(tmp_path, "x-key")
    gateway = Gateway(GatewayConfig(ttl=300), store)
    assert gateway.identity.sources == ("header.x-key",)
    assert gateway.authorize(incoming(**{"x-key": "ok-1"})).status == 200
    write_policy(Path(store.location), KEYED.format(header="x-token"))
    assert store.reload()
    gateway.policy_changed()
    assert gateway.cache == {} and gateway.identity.sources == ("header.x-token",)
    assert gateway.authorize(incoming(**{"x-key": "ok-1"})).verdict == "missing-identity"
    assert gateway.authorize(incoming(**{"x-token": "ok-1"})).status == 200


def test_given_identity_sources_survive_a_policy_change(tmp_path):
    store = keyed(tmp_path)
    gateway = Gateway(GatewayConfig(identity_sources=("query.k",)), store)
    write_policy(Path(store.location), KEYED.format(header="x-other"))
    store.reload()
    gateway.policy_changed()
    assert gateway.identity.sources == ("query.k",)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [({}, "192.0.2.7"), ({"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9, 192.0.2.7")],
)
def test_forwarded_headers_are_set_as_api_gateway_sets_them(tmp_path, sent, expected):
    gateway = Gateway(GatewayConfig(ttl=0), keyed(tmp_path))
    outcome = gateway.authorize(incoming(**{"x-key": "ok-1", **sent}))
    assert outcome.event is not None
    headers = outcome.event["headers"]
    assert headers["X-Forwarded-For"] == expected
    assert (headers["X-Forwarded-Proto"], headers["X-Forwarded-Port"]) == ("https", "443")
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert outcome.event["requestContext"]["identity"]["sourceIp"] == "192.0.2.7"


def test_a_websocket_connect_neither_uses_nor_fills_the_rest_cache(tmp_path):
    """Separate APIs, separate caches; API Gateway never caches `$connect` answers."""
    gateway = Gateway(GatewayConfig(ttl=300), keyed(tmp_path))
    assert gateway.authorize(incoming("/pets", **{"x-key": "ok-1"})).status == 200  # REST: cached
    connect = Incoming("GET", "/", [("x-key", "ok-1")], [], "192.0.2.7", websocket=True)
    for _ in range(2):
        outcome = gateway.authorize(connect)
        assert (outcome.status, outcome.kind, outcome.cached) == (200, WEBSOCKET, None)
    assert list(gateway.cache) == [("rest", ("ok-1",))]
    assert gateway.authorize(incoming("/orders", **{"x-key": "ok-1"})).cached is not None  # still REST's


def test_the_event_carries_what_was_sent_only_displays_redact(tmp_path):
    """The authorizer gets the real values (the echo backend and the page show them redacted)."""
    config = GatewayConfig(api="http-v1", stage_variables={"StageVar1": "stageValue1"}, ttl=0)
    gateway = Gateway(config, FilePolicyStore(str(EXAMPLE)))
    sent = Incoming("GET", "/pets", [("HeaderAuth1", "headerValue1")], [("QueryString1", "queryValue1")], "192.0.2.7")
    event = gateway.authorize(sent).event
    assert event is not None
    assert event["identitySource"] == event["authorizationToken"] == "headerValue1,queryValue1,stageValue1,123456789012"
    assert event["headers"]["headerauth1"] == "headerValue1"  # HTTP APIs lowercase header names

    simple = FilePolicyStore(str(write_policy(tmp_path / "simple.yaml", KEYED.format(header="x-api-key"))))
    gateway = Gateway(GatewayConfig(api="http-v2", stage="$default", ttl=0), simple)
    sent = Incoming("GET", "/pets/1", [("X-Api-Key", "ok-123"), ("Cookie", "s=1; t=2")], [], "192.0.2.7")
    event = gateway.authorize(sent).event
    assert event is not None
    assert (event["identitySource"], event["cookies"]) == (["ok-123"], ["s=1", "t=2"])
    assert event["headers"]["x-api-key"] == "ok-123"


@pytest.mark.parametrize(
    ("api", "path", "route_key", "parameters"),
    [
        ("rest", "/pets/7", "GET /pets/{id}", {"id": "7"}),
        ("rest", "/toys/7", "ANY /{proxy+}", {"proxy": "toys/7"}),  # no route: the catch-all
        ("rest", "/", None, {}),
        ("http-v2", "/pets/7", "GET /pets/{id}", {"id": "7"}),
        ("http-v2", "/toys/7", "$default", {}),
    ],
)
def test_a_route_sets_the_route_key_and_path_parameters(tmp_path, api, path, route_key, parameters):
    config = GatewayConfig(api=api, ttl=0, routes=(parse_route("GET /pets/{id}"),))
    outcome = Gateway(config, keyed(tmp_path)).authorize(incoming(path, **{"x-key": "ok-1"}))
    assert outcome.event is not None
    event = outcome.event
    assert event["pathParameters"] == parameters
    if api == "rest":
        assert event["resource"] == (route_key.split(" ", 1)[1] if route_key else "/")
    else:
        assert event["routeKey"] == route_key
