"""Key rotation against a real key-set server on loopback (http.server in a thread, started here).

A new kid costs exactly one fetch; a flood of unknown kids at most one per interval; a server that
is down, slow, too large or wrong leaves the last good keys in place; a key removed upstream stops
verifying after the next successful fetch (cached tokens included); fetched keys age out; nothing is
fetched when issuers are compiled, or for an unknown issuer. `now` is the verifier's clock, moved
by the tests; only the slow-server tests wait for real, bounded by generous ceilings.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from authorizer.tokens.fetch import FetchError, get
from authorizer.tokens.jwks import FetchSettings
from authorizer.tokens.mint import DevKey, jwks, mint
from authorizer.tokens.verify import Verified
from tests.tokens_support import NOW, claims, dev_key, issuers

CEILING_SECONDS = 3.0  # a hang, not a slowness, fails: the slow servers below would hold 10 s or more


class KeyServer:
    """Serves `document` at /jwks.json; counts requests; can answer slowly, drip, fail or be stopped."""

    def __init__(self) -> None:
        self.document = jwks([])
        self.requests = 0
        self.status = 200
        self.delay = 0.0
        self.drip = False
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.stopping.wait(server.delay):
                    return
                body = json.dumps(server.document).encode()
                if server.drip:  # a header byte at a time, for ever (until the test ends)
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    while not server.stopping.wait(0.05):
                        self.wfile.write(b"X")
                        self.wfile.flush()
                    return
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"

    def publish(self, *keys: DevKey) -> None:
        self.document = jwks(keys)

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[KeyServer]:
    running = KeyServer()
    yield running
    running.stop()


def token(key: DevKey, **changes: object) -> str:
    return mint(key, claims(exp=int(NOW) + 200_000, **changes), now=NOW)


def test_a_new_kid_costs_exactly_one_fetch(tmp_path: Path, server: KeyServer) -> None:
    packaged, rotated = dev_key("RS256"), dev_key("RS256", 1)
    server.publish(packaged, rotated)
    verifier, _ = issuers(tmp_path, [packaged], url=server.url)
    assert server.requests == 0  # compiling fetches nothing
    assert isinstance(verifier.verify(token(packaged), NOW), Verified) and server.requests == 0  # packaged first
    assert isinstance(verifier.verify(token(rotated), NOW), Verified) and server.requests == 1
    assert isinstance(verifier.verify(token(rotated, sub="other"), NOW + 1), Verified) and server.requests == 1
    assert verifier.verify(token(packaged, iss="https://unknown.example"), NOW).reason == "token.unknown_issuer"  # type: ignore[union-attr]
    assert server.requests == 1


def test_a_flood_of_unknown_kids_costs_one_fetch_per_interval(tmp_path: Path, server: KeyServer) -> None:
    key = dev_key("ES256")
    server.publish(key)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(interval=10))
    for n in range(50):
        forged = DevKey.generate("ES256", kid=f"made-up-{n}")
        assert verifier.verify(token(forged), NOW + n / 10).reason == "token.unknown_kid"  # type: ignore[union-attr]
    assert server.requests == 1
    assert verifier.verify(token(DevKey.generate("ES256", "late")), NOW + 10).reason == "token.unknown_kid"  # type: ignore[union-attr]
    assert server.requests == 2
    assert isinstance(verifier.verify(token(key), NOW + 11), Verified) and server.requests == 2  # fetched already


def test_a_server_that_is_down_leaves_the_last_good_keys(tmp_path: Path, server: KeyServer) -> None:
    key = dev_key("ES256")
    server.publish(key)
    settings = FetchSettings(interval=10, refresh=3600, max_age=86_400)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=settings, cache_size=0)
    assert isinstance(verifier.verify(token(key), NOW), Verified)
    server.status = 500
    assert isinstance(verifier.verify(token(key), NOW + 4000), Verified) and server.requests == 2  # refresh failed
    server.document = {"keys": [{"kty": "oct", "kid": "x", "k": "c2VjcmV0"}]}  # nothing usable: not a good set
    server.status = 200
    assert isinstance(verifier.verify(token(key), NOW + 8000), Verified) and server.requests == 3
    server.stop()
    assert isinstance(verifier.verify(token(key), NOW + 12_000), Verified)  # connection refused
    assert verifier.verify(token(key), NOW + 86_400).reason == "token.keys_unavailable"  # type: ignore[union-attr]


def test_a_key_removed_upstream_stops_verifying_after_the_next_fetch(tmp_path: Path, server: KeyServer) -> None:
    old, new = dev_key("RS256"), dev_key("RS256", 1)
    server.publish(old)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(interval=10, refresh=3600))
    old_token = token(old)
    assert isinstance(verifier.verify(old_token, NOW), Verified)
    assert verifier.verify(old_token, NOW + 1) is verifier.verify(old_token, NOW + 2)  # cached
    server.publish(new)  # the issuer rotates and revokes the old key
    assert isinstance(verifier.verify(old_token, NOW + 30), Verified)  # not fetched again yet: still valid
    assert isinstance(verifier.verify(token(new), NOW + 30), Verified)  # the new kid fetches the new set
    assert server.requests == 2
    assert verifier.verify(old_token, NOW + 31).reason == "token.unknown_kid"  # type: ignore[union-attr]


def test_without_a_new_kid_keys_are_fetched_again_after_refresh(tmp_path: Path, server: KeyServer) -> None:
    old = dev_key("RS256")
    server.publish(old)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(refresh=600, max_age=3600))
    assert isinstance(verifier.verify(token(old), NOW), Verified)
    server.publish(dev_key("RS256", 1))
    assert isinstance(verifier.verify(token(old), NOW + 599), Verified)
    assert verifier.verify(token(old, sub="x"), NOW + 600).reason == "token.unknown_kid"  # type: ignore[union-attr]
    assert server.requests == 2


def test_fetched_keys_age_out(tmp_path: Path, server: KeyServer) -> None:
    key = dev_key("EdDSA")
    server.publish(key)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(interval=10, refresh=100, max_age=1000))
    cached = token(key)
    assert isinstance(verifier.verify(cached, NOW), Verified)
    server.status = 503
    assert isinstance(verifier.verify(cached, NOW + 999), Verified)  # cached: bounded by the key's age too
    assert verifier.verify(cached, NOW + 1000).reason == "token.keys_unavailable"  # type: ignore[union-attr]


def test_oversized_and_redirected_responses_are_failures(tmp_path: Path, server: KeyServer) -> None:
    key = dev_key("ES256")
    server.publish(key, *[DevKey.generate("ES256", f"filler-{n}") for n in range(20)])
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(max_bytes=1000))
    assert verifier.verify(token(key), NOW).reason == "token.keys_unavailable"  # type: ignore[union-attr]
    server.status = 302
    with pytest.raises(FetchError, match="HTTP status 302"):
        get(server.url, 1.0, 100_000)


@pytest.mark.parametrize("mode", ["slow", "drip"])
def test_a_slow_server_holds_a_request_no_longer_than_the_timeout(tmp_path: Path, server: KeyServer, mode: str) -> None:
    key = dev_key("ES256")
    server.publish(key)
    server.delay, server.drip = (10.0, False) if mode == "slow" else (0.0, True)
    verifier, _ = issuers(tmp_path, [], url=server.url, fetch=FetchSettings(timeout=0.3))
    started = time.monotonic()
    assert verifier.verify(token(key), NOW).reason == "token.keys_unavailable"  # type: ignore[union-attr]
    assert time.monotonic() - started < CEILING_SECONDS
    with pytest.raises(FetchError, match=r"within 0\.3 s"):
        get(server.url, 0.3, 100_000)
