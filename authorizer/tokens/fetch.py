"""One bounded HTTPS GET, for key sets: standard library only, strict in time and size.

A key fetch happens inside a request, so it must end within `timeout` whatever the server does:
connecting and every read are bounded by the time left, and a watchdog shuts the socket at the
deadline (a server dripping its headers a byte at a time cannot hold the request). Responses over
`max_bytes` are refused, redirects are not followed, only status 200 counts. Plain http is allowed
for loopback addresses only (tests, local serving). Name resolution is the one step the deadline
cannot interrupt.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import http.client

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class FetchError(Exception):
    """The fetch failed; the message says how (status, size, timeout), never what the body held."""


def check_url(url: str) -> str | None:
    """Why `url` cannot be a key-set location, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "must be an https:// URL (http:// only on a loopback address)"


def get(url: str, timeout: float, max_bytes: int) -> bytes:
    """The body of a 200 response to GET `url`, within `timeout` seconds and `max_bytes`; FetchError else."""
    import http.client  # with ssl, ~5 ms of imports: paid by the first fetch, not by a cold start
    import ssl

    problem = check_url(url)
    if problem:
        raise FetchError(problem)
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    watchdog = threading.Timer(timeout, _shut, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Accept": "application/json", "Connection": "close"})
        response = connection.getresponse()
        if response.status != 200:
            raise FetchError(f"HTTP status {response.status}")
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes")
        body = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchError(f"no complete response within {timeout:g} s")
            if connection.sock is not None:
                connection.sock.settimeout(left)
            chunk = response.read1(65_536)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"response larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"no complete response within {timeout:g} s")
        return bytes(body)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:  # socket.timeout is an OSError
        late = time.monotonic() >= deadline
        raise FetchError(f"no complete response within {timeout:g} s" if late else type(exc).__name__) from None
    finally:
        watchdog.cancel()
        connection.close()


def _shut(connection: http.client.HTTPConnection) -> None:
    """The deadline passed: wake any blocked read (it then fails) by shutting the socket."""
    import socket

    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
