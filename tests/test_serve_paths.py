"""`authorizer serve` authorizes what it forwards: the path in the authorizer event's ARN is the
path the upstream receives, byte for byte once decoded; forms that servers read differently
(dot-segments, encoded slashes and backslashes, bad escapes) are refused before the authorizer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from authorizer.serve.target import BadTarget, Target, below_stage, read_target
from tests import test_serve_support as support
from tests.test_serve_support import Upstream, raw_request

serve = support.serve  # the fixture

# the context carries the path the ARN names and the query value the authorizer read
ECHO_ARN = """
version: 1
resource: api
rules:
  - name: anyone
    effect: allow
    when:
      header.x-user: {exists: true}
    context:
      arnPath: {from: route.path}
      q: {from: query.q}
"""
USER = {"x-user": "u"}

ACCEPTED = [  # (sent below the stage, the path the ARN names)
    ("/pets/42", "/pets/42"),
    ("/pets/caf%C3%A9", "/pets/café"),
    ("/pets/a%20b", "/pets/a b"),
    ("/pets/%2525", "/pets/%25"),  # decoded once, not twice
    ("/pets/%2e%2ehidden", "/pets/..hidden"),  # not a dot-segment
    ("/pets/.well-known", "/pets/.well-known"),
    ("/pets//double", "/pets//double"),
    ("/pets/a+b", "/pets/a+b"),  # '+' is a plus in a path
]
REFUSED = [
    "/a/../b",
    "/a/./b",
    "/a/..",
    "/a/.",
    "/..",
    "/../prod/pets",
    "/a/%2e%2e/b",
    "/a/%2E%2e/b",
    "/a/.%2E/b",
    "/a/%2e/b",
    "/a/%2E",
    "/a%2fb",
    "/a%2Fb",
    "/a%5cb",
    "/a%5Cb",
    "/a\\b",
    "/a%zz",
    "/a%2",
    "/a%ff",  # not UTF-8
    "/a#frag",
]


# -- the target, read alone --------------------------------------------------------------------
@pytest.mark.parametrize(("sent", "authorized"), ACCEPTED)
def test_the_decoded_path_is_authorized_and_the_raw_one_forwarded(sent, authorized):
    target = below_stage(read_target(f"/dev{sent}?q=%26x"), "dev")
    assert target == Target(raw_path=sent, path=authorized, raw_query="q=%26x")


@pytest.mark.parametrize("sent", REFUSED)
def test_ambiguous_targets_are_refused(sent):
    with pytest.raises(BadTarget):
        read_target("/dev" + sent)


def test_the_stage_prefix_is_cut_from_both_forms():
    assert below_stage(read_target("/dev"), "dev") == Target("/", "/", "")
    assert below_stage(read_target("/d%65v/x%20y"), "dev") == Target("/x%20y", "/x y", "")
    assert below_stage(read_target("/devx/y"), "dev") is None
    assert below_stage(read_target("/x%20y"), "$default") == Target("/x%20y", "/x y", "")


# -- end to end: the upstream receives what was authorized -------------------------------------
@pytest.fixture(scope="module")
def shared_upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


@pytest.fixture
def upstream(shared_upstream: Upstream) -> Upstream:
    """One upstream (so one gateway) for the module; each test sees only its own requests."""
    shared_upstream.seen.clear()
    return shared_upstream


@pytest.mark.parametrize(("sent", "authorized"), ACCEPTED)
def test_the_upstream_receives_the_path_the_arn_names(serve, upstream, sent, authorized):
    server = serve(ECHO_ARN, "--ttl", "0", "--upstream", upstream.url + "/base")
    status, body = raw_request(server.port, f"/dev{sent}?q=%26x", USER)
    assert (status, json.loads(body)) == (201, {"from": "upstream"})
    (seen,) = upstream.seen
    assert seen["target"] == f"/base{sent}?q=%26x"  # the raw bytes, as sent
    context = json.loads(seen["headers"]["x-apigateway-authorizer"])
    assert context["arnPath"] == authorized == unquote(seen["target"].partition("?")[0].removeprefix("/base"))
    assert context["q"] == "&x"  # the query the authorizer read is the one forwarded (not q= and x)


@pytest.mark.parametrize("sent", REFUSED)
def test_refused_targets_reach_neither_the_authorizer_nor_the_upstream(serve, upstream, sent):
    server = serve(ECHO_ARN, "--ttl", "0", "--upstream", upstream.url + "/base")
    status, body = raw_request(server.port, "/dev" + sent, USER)
    assert (status, json.loads(body)) == (400, {"message": "Bad Request"})
    assert upstream.seen == []
    line = server.line(f"GET /dev{sent} 400 ")
    assert "400 bad-request rule=- " in line  # decided before the authorizer: no rule, no decision


def test_a_refused_target_is_refused_for_websocket_upgrades_too(serve):
    server = serve(ECHO_ARN, "--ttl", "0")
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **USER}  # fmt: skip
    status, _ = raw_request(server.port, "/dev/%2e%2e/x", upgrade)
    assert status == 400
