"""Secrets never shown by `authorizer serve`: a source compared with a secret, named in `redact:`
(in any case) or secret-looking by name is redacted in everything the gateway shows (the echo
JSON, `requestContext.authorizer`, the echoed event, the HTML page, the WebSocket echo); the
upstream still gets the real values, as the integration would."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from tests import test_serve_support as support
from tests.test_serve_support import Upstream

serve = support.serve  # the fixture

TICKET = "T1CKET-c0ffee"
POLICY = """
version: 1
resource: api
redact: [header.x-CUSTOMER, header.X-TRACE-NOTE, query.Sig]
secrets:
  ticket: {env: SERVE_TEST_TICKET}
rules:
  - name: ticketed
    effect: allow
    when:
      query.ticket: {secret: ticket}
      header.x-user: {exists: true}
    principal: {from: query.ticket}
    context:
      user: {from: header.x-user}
      customer: {from: header.x-customer}
      ticket: {from: query.ticket}
"""
SECRETS = {  # every value here must never be shown
    "ticket": TICKET,  # compared with a secret (query.ticket), also the principal and a context value
    "customer": "acme-c0nfidential",  # under redact: (written header.x-CUSTOMER), copied into the context
    "note": "n0te-under-redact",  # under redact:, read by no rule
    "session": "sess-1d-value",  # X-Session-Id: secret-looking by name, read by no rule
    "cookie": "c00kie-value",
    "bearer": "Bearer b34rer-value",
    "sig": "s1g-value",  # query.Sig under redact:
}
HEADERS = {
    "x-user": "alice",
    "X-Customer": SECRETS["customer"],
    "X-Trace-Note": SECRETS["note"],
    "X-Session-Id": SECRETS["session"],
    "Cookie": f"sid={SECRETS['cookie']}; theme=dark",
    "Authorization": SECRETS["bearer"],
}
QUERY = f"ticket={TICKET}&Sig={SECRETS['sig']}&plain=visible"
KINDS = ("rest", "http-v1", "http-v2")
BEARER = """
version: 1
rules:
  - name: bearer
    effect: allow
    when:
      token: {prefix: "Bearer "}
"""


@pytest.fixture(scope="module", autouse=True)
def _servers(serve) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SERVE_TEST_TICKET", TICKET)  # the servers inherit it
        for api in KINDS:
            _ = serve(POLICY, "--api", api, "--ttl", "0").banner
        _ = serve(POLICY, "--api", "websocket").banner
        _ = serve(BEARER, "--api", "token", "--ttl", "0").banner
        yield


def assert_nothing_secret(text: str) -> None:
    leaked = [name for name, value in SECRETS.items() if value.removeprefix("Bearer ") in text]
    assert leaked == [], f"shown: {leaked}"
    assert "alice" in text  # not everything is redacted: values of innocent sources stay


@pytest.mark.parametrize("api", KINDS)
def test_the_echo_json_shows_no_secret(serve, api):
    server = serve(POLICY, "--api", api, "--ttl", "0")
    response = httpx.get(server.url(f"/pets?{QUERY}"), headers=HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    assert_nothing_secret(response.text)
    body = response.json()
    assert body["principalId"] == "<redacted>"
    assert body["context"] == {"user": "alice", "customer": "<redacted>", "ticket": "<redacted>"}
    authorizer = body["requestContext"]["authorizer"]
    if api == "rest":
        assert authorizer == {"principalId": "<redacted>", "user": "alice", "customer": "<redacted>",
                              "ticket": "<redacted>"}  # fmt: skip
    else:
        assert authorizer == {"lambda": {"user": "alice", "customer": "<redacted>", "ticket": "<redacted>"}}
    event = body["authorizerEvent"]
    assert event["queryStringParameters"]["plain"] == "visible"
    assert event["queryStringParameters"]["ticket"] == "<redacted>"
    if api == "http-v2":
        assert event["cookies"] == ["sid=<redacted>", "theme=<redacted>"]
        assert event["identitySource"] == ["<redacted>", "<redacted>"]
        assert "plain=visible" in event["rawQueryString"] and "Sig=<redacted>" in event["rawQueryString"]
    else:
        assert event["multiValueQueryStringParameters"]["Sig"] == ["<redacted>"]
        headers = {name.lower(): value for name, value in event["multiValueHeaders"].items()}
        assert headers["cookie"] == ["sid=<redacted>; theme=<redacted>"]
        assert headers["x-trace-note"] == headers["x-session-id"] == ["<redacted>"]


def test_a_token_event_shows_no_token(serve):
    server = serve(BEARER, "--api", "token", "--ttl", "0")
    response = httpx.get(server.url("/pets"), headers={"Authorization": SECRETS["bearer"]}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["authorizerEvent"]["authorizationToken"] == "<redacted>"
    assert "b34rer" not in response.text


@pytest.mark.parametrize("api", KINDS)
def test_the_page_shows_no_secret(serve, api):
    server = serve(POLICY, "--api", api, "--ttl", "0")
    page = httpx.get(server.url(f"/pets?{QUERY}"), headers={**HEADERS, "Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_nothing_secret(page.text)
    assert "&lt;redacted&gt;" in page.text


def test_the_websocket_echo_shows_no_secret(serve):
    server = serve(POLICY, "--api", "websocket")
    with connect(server.ws_url(f"?{QUERY}"), additional_headers=HEADERS, open_timeout=10) as ws:
        ws.send("hello")
        reply = ws.recv(timeout=10)
    assert isinstance(reply, str)
    assert_nothing_secret(reply)
    assert json.loads(reply)["requestContext"]["authorizer"]["principalId"] == "<redacted>"


def test_the_upstream_gets_the_real_values(serve):
    """Not a display: the integration gets what it would get on AWS (docs/serve.md)."""
    upstream = Upstream()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SERVE_TEST_TICKET", TICKET)
            server = serve(POLICY, "--ttl", "0", "--upstream", upstream.url)
            assert httpx.get(server.url(f"/pets?{QUERY}"), headers=HEADERS, timeout=10).status_code == 201
        (seen,) = upstream.seen
        authorizer = json.loads(seen["headers"]["x-apigateway-authorizer"])
        assert authorizer == {"principalId": TICKET, "user": "alice", "customer": SECRETS["customer"],
                              "ticket": TICKET}  # fmt: skip
        assert seen["headers"]["X-Session-Id"] == SECRETS["session"]  # the request as sent
    finally:
        upstream.stop()
