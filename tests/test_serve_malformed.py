"""Hostile requests against `authorizer serve`: no request writes a log line of its own (control
characters in paths and reasons are escaped), and a request aiohttp cannot parse gets a fixed body
and one log line, never its own bytes back (in the body or a traceback)."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from tests import test_serve_support as support
from tests.test_serve_support import raw_request

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
"""
SECRET = "s3cr3t-in-a-bad-line"
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d ")  # every line the server writes starts with its own time


@pytest.fixture
def server(serve):
    return serve(USERS, "--ttl", "0")


def send_raw(port: int, data: bytes) -> bytes:
    """Send bytes as they are, read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def split(response: bytes) -> tuple[int, bytes, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


FORGED = "%0D%0A04:02:45%20GET%20/dev/admin%20200%20allow%20rule=admins%201.0ms%0A%1B[2J"


@pytest.mark.parametrize("role", ["banned", "reader"])  # a Deny (the reason names the ARN) and an Allow
def test_a_path_cannot_forge_a_log_line(server, role):
    status, _ = raw_request(server.port, f"/dev/forge-{role}{FORGED}", {"x-user": "m", "x-role": role})
    assert status == (403 if role == "banned" else 200)
    line = server.line(f"/dev/forge-{role}")
    assert f"forge-{role}%0D%0A04:02:45%20GET" in line  # the path as sent, still percent-encoded
    if role == "banned":
        assert (
            "denies arn:aws:execute-api:us-east-1:123456789012:example123/dev/GET/forge-banned\\r\\n04:02:45 " in line
        )
    log = server.log()
    assert "\x1b" not in log and "\r" not in log
    assert all(LOG_LINE.match(text) for text in log.splitlines()), log


@pytest.mark.parametrize(
    "request_bytes",
    [
        f"GET /dev/pets HTTP/1.1\r\nHost: x\r\nBad Header Line {SECRET}\r\n\r\n".encode(),
        f"GET /dev/pets HTTP/1.1\r\nHost: x\r\nX-Key: v\x01{SECRET}\r\n\r\n".encode(),
        f"GET /dev/pets HTTP/1.1\r\nHost: x\r\n{SECRET}\xff: v\r\n\r\n".encode("latin-1"),  # not a token
        f"GET /dev/{SECRET} x HTTP/1.1\r\nHost: x\r\n\r\n".encode(),  # a bad request line
        f"{SECRET} /dev/pets HTTP/1.1\r\n\r\n".encode(),  # a bad method
        f"GET /dev/pets HTTP/1.1\r\nHost: x\r\nX-Long: {SECRET}{'a' * 9000}\r\n\r\n".encode(),  # over the limit
    ],
)
def test_a_malformed_request_gets_a_fixed_body_and_one_log_line(server, request_bytes):
    before = server.log().count("malformed-request")
    status, head, body = split(send_raw(server.port, request_bytes))
    assert (status, json.loads(body)) == (400, {"message": "Bad Request"})
    assert SECRET.encode() not in head + body
    deadline = time.monotonic() + 10
    while server.log().count("malformed-request") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in server.log().splitlines() if "malformed-request" in line]
    assert len(lines) == before + 1  # one line
    assert re.fullmatch(
        r'\d\d:\d\d:\d\d - - 400 malformed-request reason="unparseable request \(\w+\); not repeated"', lines[-1]
    )
    assert SECRET not in server.log() and "Traceback" not in server.log()


def test_a_broken_websocket_handshake_is_a_fixed_400(server):
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": SECRET, "x-user": "u"}
    status, body = raw_request(server.port, "/dev/handshake", headers)
    assert (status, json.loads(body)) == (400, {"message": "Bad Request"})
    assert "400 bad-request rule=- " in server.line("GET /dev/handshake ")
    assert SECRET not in server.log()
