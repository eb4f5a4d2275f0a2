"""`authorizer serve` and WebSocket clients: the `$connect` authorizer decides the handshake."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests import test_serve_support as support
from tests.conftest import REPO
from tests.test_serve_support import EXAMPLE, IDENTITY, STAGE_VAR

serve = support.serve  # the fixture

USERS = """
version: 1
rules:
  - name: banned
    effect: deny
    when:
      header.x-user: {exists: true}
      header.x-role: banned
  - name: users
    effect: allow
    when:
      header.x-user: {exists: true}
    principal: {from: header.x-user}
    context:
      first: {from: header.x-first}
      second: {from: header.x-second}
"""


def refused_status(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers=headers, open_timeout=10)
    response = refused.value.response
    return response.status_code, response.body or b""


EXAMPLE_REST = (EXAMPLE, "--stage-var", STAGE_VAR)
USERS_WEBSOCKET = (USERS, "--api", "websocket")
MAKE_SERVE = (EXAMPLE, "--stage-var", STAGE_VAR, "--ttl", "300")  # `make serve`'s command (its TTL said aloud)


@pytest.fixture(scope="module", autouse=True)
def _start_servers(serve):
    for config in (EXAMPLE_REST, USERS_WEBSOCKET, MAKE_SERVE):
        serve(*config)


@pytest.fixture
def example(serve):
    return serve(*EXAMPLE_REST)


def test_allowed_connect_completes_the_handshake_and_echoes(example):
    with connect(example.ws_url("?QueryString1=queryValue1"), additional_headers=IDENTITY, open_timeout=10) as ws:
        ws.send("hello")
        reply = json.loads(ws.recv(timeout=10))
    assert reply["message"] == "hello"
    assert reply["requestContext"]["authorizer"]["principalId"] == "me"
    assert reply["requestContext"]["authorizer"]["numberKey"] == "123"
    assert "101 allow rule=docs-example" in example.line("GET /dev 101")


def test_connect_without_identity_is_refused_with_401(example):
    status, body = refused_status(example.ws_url(), {})
    assert status == 401
    assert json.loads(body) == {"message": "Unauthorized"}


def test_connect_with_a_wrong_value_is_refused_by_the_authorizer(example):
    status, _ = refused_status(example.ws_url("?QueryString1=queryValue1"), {"HeaderAuth1": "nope"})
    assert status == 401
    assert 'reason="no rule matched"' in example.line("GET /dev 401 unauthorized")


def test_connect_denied_by_a_rule_is_refused_with_403(serve):
    server = serve(*USERS_WEBSOCKET)
    headers = {"x-user": "m", "x-role": "banned", "x-first": "a", "x-second": "b"}
    status, body = refused_status(server.ws_url(), headers)
    assert status == 403
    assert json.loads(body) == {"Message": "User is not authorized to access this resource with an explicit deny"}


def test_an_answer_over_the_websocket_result_limit_is_refused_not_500(serve):
    """The authorizer checks the result limit itself (decide/response.check_size): a refusal, never
    the 500 API Gateway would answer an oversized result with."""
    server = serve(*USERS_WEBSOCKET)
    big = {"x-user": "u", "x-first": "a" * 4500, "x-second": "b" * 4500}  # context copied from headers: > 8 KB
    status, body = refused_status(server.ws_url(), big)
    assert status == 401 and json.loads(body) == {"message": "Unauthorized"}
    assert "WebSocket APIs accept 8192" in server.line("GET /dev 401 unauthorized")
    small = {"x-user": "u", "x-first": "a", "x-second": "b"}
    with connect(server.ws_url(), additional_headers=small, open_timeout=10) as ws:
        ws.send("ping")
        assert json.loads(ws.recv(timeout=10))["requestContext"]["authorizer"]["principalId"] == "u"


def test_websocket_api_shows_the_connect_decision_to_plain_http_and_never_caches(serve):
    server = serve(*USERS_WEBSOCKET)
    assert "authorizer cache: off (API Gateway does not cache WebSocket authorizers)" in server.banner
    response = httpx.get(server.url(), headers={"x-user": "v", "x-first": "1", "x-second": "2"}, timeout=10)
    assert response.status_code == 200
    event = response.json()["authorizerEvent"]
    assert event["methodArn"].endswith("/dev/$connect")
    assert event["requestContext"]["eventType"] == "CONNECT" and event["requestContext"]["routeKey"] == "$connect"
    again = httpx.get(server.url(), headers={"x-user": "v", "x-first": "1", "x-second": "2"}, timeout=10)
    assert again.json()["cached"] is False


# `curl -i 'URL' -H 'Name: value'  # 200` and `wscat -c 'URL' -H Name:value  # connects`, as documented
TRY_LINE = re.compile(r"(curl -i|wscat -c) '([^']+)'(?: -H '?([^:']+): ?([^' ]*)'?)?\s+# (.+)")


def documented_tries(path: Path) -> list[tuple[str, str, dict[str, str], str]]:
    tries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        found = TRY_LINE.search(line.removesuffix('"'))
        if found:
            tool, url, name, value, expected = found.groups()
            tries.append((tool, url, {name: value} if name else {}, expected.strip()))
    return tries


@pytest.mark.parametrize("source", ["docs/serve.md", "Makefile"])
def test_the_documented_curl_and_wscat_lines_behave_as_documented_in_order(serve, source):
    """The curl lines cache a REST answer for the very identity the wscat line then connects with:
    a REST answer must never decide a `$connect` (it used to: 403 instead of connecting)."""
    server = serve(*MAKE_SERVE)
    tries = documented_tries(REPO / source)
    assert [(tool, expected) for tool, _, _, expected in tries] == [
        ("curl -i", "200"),
        ("curl -i", "401"),
        ("curl -i", "403: cached"),
        ("wscat -c", "connects"),
        ("wscat -c", "error: Unexpected server response: 401"),
    ]
    for tool, url, headers, expected in tries:
        url = re.sub(r"127\.0\.0\.1:(3000|\$\(PORT\))", f"127.0.0.1:{server.port}", url)
        if tool == "curl -i":
            assert httpx.get(url, headers=headers, timeout=10).status_code == int(expected[:3]), (url, expected)
        elif expected == "connects":
            with connect(url, additional_headers=headers, open_timeout=10) as ws:
                ws.send("hello")
                assert json.loads(ws.recv(timeout=10))["message"] == "hello"
        else:
            assert refused_status(url, headers)[0] == int(expected[-3:])
