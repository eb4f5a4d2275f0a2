"""Every shipped policy can be tried with `authorizer serve`: a source IP (`--source-ip`, or the
left-most X-Forwarded-For entry with `--trust-forwarded-for`) for CIDR conditions, and route
templates (`--route`, `--openapi`) giving path parameters to the event, for tenant-in-path policies."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests import test_serve_support as support
from tests.test_serve_support import POLICIES

serve = support.serve  # the fixture

TENANTS = """
version: 1
resource: routes
rules:
  - name: tenant-from-the-office
    effect: allow
    routes: ["GET /tenants/{tenant}/orders/{id}"]
    when:
      source_ip: {cidr: 198.51.100.0/24}
      path.tenant: {equals: {from: header.x-tenant}}
      path.id: {regex: "[0-9]+"}
    principal: {from: header.x-tenant}
    context:
      order: {from: path.id}
"""
ORDERS = "GET /tenants/{tenant}/orders/{id}"
API_KEYS = POLICIES / "api-keys.yaml"
ACME, GLOBEX = "acme-7f3a9c2e41b8", "globex-0d5e9a77c3f1"
OPENAPI = {
    "openapi": "3.0.1",
    "paths": {"/pets": {"get": {}, "post": {}}, "/pets/{id}": {"get": {}, "put": {}, "delete": {}}},
}

# every server this module uses, started side by side
TENANTS_FROM_OFFICE = (TENANTS, "--ttl", "0", "--source-ip", "198.51.100.7", "--route", ORDERS)
TENANTS_HTTP_V2 = (TENANTS, "--api", "http-v2", "--ttl", "0", "--source-ip", "198.51.100.7", "--route", ORDERS)
TENANTS_FORWARDED = (TENANTS, "--ttl", "0", "--trust-forwarded-for", "--route", ORDERS)
TENANTS_NO_ROUTE = (TENANTS, "--ttl", "0", "--source-ip", "198.51.100.7")
KEYS_FROM_ACME = (API_KEYS, "--source-ip", "198.51.100.7")
KEYS_FORWARDED = (API_KEYS, "--trust-forwarded-for")


@pytest.fixture(scope="module")
def openapi_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "pets.json"
    path.write_text(json.dumps(OPENAPI))
    return path


@pytest.fixture(scope="module", autouse=True)
def _start_servers(serve, openapi_file) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAT_TICKET", "ticket-for-tests")  # websocket-chat.yaml's secret
        for config in (TENANTS_FROM_OFFICE, TENANTS_HTTP_V2, TENANTS_FORWARDED, TENANTS_NO_ROUTE,
                       KEYS_FROM_ACME, KEYS_FORWARDED):  # fmt: skip
            serve(*config)
        serve(POLICIES / "http-routes.yaml", "--api", "http-v2", "--stage", "$default", "--openapi", str(openapi_file))
        serve(POLICIES / "websocket-chat.yaml", "--api", "websocket")
        yield


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def traced_actual(page: str, source: str) -> object:
    """The actual value the page's trace shows for `source`."""
    row = re.search(
        rf'<code>{re.escape(source)}</code></td><td>\w+</td>\s*<td class="v">[^<]*</td><td class="v">([^<]*)<', page
    )
    assert row is not None, page
    return json.loads(html.unescape(row.group(1)))


# -- a source IP and a path parameter ---------------------------------------------------------------
def test_a_source_ip_and_a_path_parameter_reach_the_policy(serve):
    server = serve(*TENANTS_FROM_OFFICE)
    assert "source IP: 198.51.100.7 (--source-ip)" in server.banner
    assert f"routes: {ORDERS}; otherwise ANY /{{proxy+}}" in server.banner
    response = get(server.url("/tenants/acme/orders/42"), **{"x-tenant": "acme"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rule"], body["principalId"], body["context"]) == ("tenant-from-the-office", "acme", {"order": "42"})
    event = body["authorizerEvent"]
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/tenants/{tenant}/orders/{id}"
    assert event["pathParameters"] == {"tenant": "acme", "id": "42"}
    assert event["path"] == "/tenants/acme/orders/42"  # the ARN and the path stay concrete
    assert event["methodArn"].endswith("/dev/GET/tenants/acme/orders/42")
    assert event["requestContext"]["identity"]["sourceIp"] == "198.51.100.7"
    assert event["headers"]["X-Forwarded-For"] == "198.51.100.7"
    assert get(server.url("/tenants/acme/orders/42"), **{"x-tenant": "globex"}).status_code == 401  # another tenant
    assert get(server.url("/tenants/acme/orders/latest"), **{"x-tenant": "acme"}).status_code == 401  # not an id


def test_http_api_events_carry_the_route_key(serve):
    server = serve(*TENANTS_HTTP_V2)
    response = get(server.url("/tenants/acme/orders/42"), **{"x-tenant": "acme"})
    assert response.status_code == 200, response.text
    event = response.json()["authorizerEvent"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == ORDERS
    assert event["pathParameters"] == {"tenant": "acme", "id": "42"}
    assert event["requestContext"]["http"]["sourceIp"] == "198.51.100.7"


def test_without_the_route_there_is_no_path_parameter_to_match(serve):
    server = serve(*TENANTS_NO_ROUTE)
    response = get(server.url("/tenants/acme/orders/42"), **{"x-tenant": "acme"})
    assert response.status_code == 401  # the catch-all binds only {proxy+}: path.tenant is missing
    assert "routes: ANY /{proxy+} only" in server.banner


@pytest.mark.parametrize(
    ("forwarded", "status", "source"),
    [
        ("198.51.100.9", 200, "198.51.100.9"),
        ("198.51.100.9, 10.0.0.1, 10.0.0.2", 200, "198.51.100.9"),  # the left-most entry
        ("203.0.113.1, 198.51.100.9", 401, "203.0.113.1"),  # a proxy's address on the right does not count
        (None, 401, "127.0.0.1"),  # no header: the client's address
    ],
)
def test_trusting_x_forwarded_for_takes_its_left_most_address(serve, forwarded, status, source):
    server = serve(*TENANTS_FORWARDED)
    headers = {"x-tenant": "acme", **({"X-Forwarded-For": forwarded} if forwarded else {})}
    response = get(server.url("/tenants/acme/orders/7"), **headers)
    assert response.status_code == status, response.text
    page = get(server.url("/tenants/acme/orders/7"), **headers, Accept="text/html").text
    assert traced_actual(page, "source_ip") == source  # the address the cidr condition was tried on


def test_a_trusted_x_forwarded_for_that_is_not_an_address_is_400(serve):
    server = serve(*TENANTS_FORWARDED)
    response = get(server.url("/tenants/acme/orders/7"), **{"x-tenant": "acme", "X-Forwarded-For": "unknown"})
    assert (response.status_code, response.json()) == (400, {"message": "Bad Request"})
    assert "left-most X-Forwarded-For entry is not an IP address" in server.line("GET /dev/tenants/acme/orders/7 400")


# -- the shipped policies -----------------------------------------------------------------------------
def test_api_keys_partners_call_from_their_networks(serve):
    server = serve(*KEYS_FROM_ACME)
    allowed = get(server.url("/orders"), **{"x-api-key": ACME})
    assert allowed.status_code == 200 and allowed.json()["principalId"] == "acme"
    assert get(server.url("/orders"), **{"x-api-key": GLOBEX}).status_code == 401  # globex's key, acme's network


def test_api_keys_blocked_networks_and_forwarded_addresses(serve):
    server = serve(*KEYS_FORWARDED)
    globex = get(server.url("/orders"), **{"x-api-key": GLOBEX, "X-Forwarded-For": "192.0.2.10"})
    assert globex.status_code == 200 and globex.json()["principalId"] == "globex"
    blocked = get(server.url("/orders"), **{"x-api-key": ACME, "X-Forwarded-For": "203.0.113.5"})
    assert blocked.status_code == 403  # blocked-networks: an explicit Deny
    assert get(server.url("/orders"), **{"x-api-key": ACME}).status_code == 401  # 127.0.0.1 is no partner's


def test_http_routes_with_routes_from_an_openapi_file(serve, openapi_file):
    server = serve(
        POLICIES / "http-routes.yaml", "--api", "http-v2", "--stage", "$default", "--openapi", str(openapi_file)
    )
    deleted = httpx.delete(server.url("/pets/7"), headers={"x-role": "admin", "x-user": "ada"}, timeout=10)
    assert deleted.status_code == 200, deleted.text
    event = deleted.json()["authorizerEvent"]
    assert (event["routeKey"], event["pathParameters"]) == ("DELETE /pets/{id}", {"id": "7"})
    staff = httpx.delete(server.url("/pets/7"), headers={"x-role": "staff", "x-user": "sam"}, timeout=10)
    assert staff.status_code == 403  # simple response isAuthorized false: only admins delete
    assert get(server.url("/pets")).json()["authorizerEvent"]["routeKey"] == "GET /pets"


def test_websocket_chat_connects_with_a_ticket_from_an_allowed_origin(serve):
    server = serve(POLICIES / "websocket-chat.yaml", "--api", "websocket")
    url = server.ws_url("?ticket=ticket-for-tests&room=lobby")
    with connect(url, origin="https://chat.example.com", open_timeout=10) as ws:
        ws.send("hi")
        assert json.loads(ws.recv(timeout=10))["requestContext"]["authorizer"]["room"] == "lobby"
