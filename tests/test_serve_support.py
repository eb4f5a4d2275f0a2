"""Starting `authorizer serve` for tests: a real subprocess on a free loopback port.

The CLI is started exactly as a user starts it (`--port 0`, the port read from its banner); its
stderr (access log, reload messages, the caching explanation) is kept in a file the tests read.
Every server is stopped with SIGTERM at teardown. `Upstream` is an integration that records what
reached it; `raw_request` sends a request target byte for byte.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import POLICIES, REPO

EXAMPLE = POLICIES / "example.yaml"
STAGE_VAR = "StageVar1=stageValue1"
IDENTITY = {"HeaderAuth1": "headerValue1"}
QUERY = {"QueryString1": "queryValue1"}
START_TIMEOUT = 60.0  # servers start side by side on a busy 2-core machine


class Server:
    def __init__(self, policy: Path, args: tuple[str, ...], log_path: Path) -> None:
        self.log_path = log_path
        command = [sys.executable, "-c", "from authorizer.cli.main import entry; entry()", "serve", str(policy)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=REPO,
                env=env,
            )
        self._banner: str | None = None

    @property
    def banner(self) -> str:
        """What the server printed on start (waiting for it: servers start in parallel, see `serve`)."""
        if self._banner is None:
            self._banner = self._read_banner()
        return self._banner

    @property
    def root(self) -> str:
        """`http://127.0.0.1:PORT/dev`: the stage's base URL, as the banner gives it."""
        line = next(text for text in self.banner.splitlines() if "listening on" in text)
        return line.split("listening on ", 1)[1].split(" ", 1)[0].rstrip("/")

    @property
    def port(self) -> int:
        return int(self.root.split(":")[2].split("/")[0])

    def _read_banner(self) -> str:
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        text, deadline = b"", time.monotonic() + START_TIMEOUT
        while b"integration:" not in text:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"server did not start: {text.decode()} {self.log()}")
            if selector.select(timeout=0.2):
                text += os.read(self.proc.stdout.fileno(), 4096)
        selector.close()
        return text.decode()

    def url(self, path: str = "/") -> str:
        return self.root + path

    def ws_url(self, path: str = "") -> str:
        return "ws" + self.root.removeprefix("http") + path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged; log:\n{self.log()}")

    def line(self, text: str, timeout: float = 10.0) -> str:
        """The first log line containing `text` (waiting for it to be written)."""
        log = self.wait_for_log(text, timeout)
        return next(line for line in log.splitlines() if text in line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.wait()

    def wait(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """`serve(policy, *cli_args)`: a server for this policy (a Path, or YAML text) and these arguments,
    started once per test module and shared by the tests asking for the same one (they use distinct
    paths and identities, so their cache entries and log lines do not meet). Starting returns at once
    and the server is waited for on first use, so a module can start all its servers side by side."""
    folder = tmp_path_factory.mktemp("serve")
    servers: dict[tuple[str, tuple[str, ...]], Server] = {}

    def start(policy: Path | str = EXAMPLE, *args: str) -> Server:
        key = (str(policy), args)
        if key not in servers:
            n = len(servers)
            path = policy if isinstance(policy, Path) else write_policy(folder / f"policy{n}.yaml", policy)
            servers[key] = Server(path, args, folder / f"server{n}.log")
        return servers[key]

    yield start
    for server in servers.values():
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGTERM)
    for server in servers.values():
        server.stop()


def write_policy(path: Path, text: str) -> Path:
    """Write a policy and move its mtime forward, so a reload sees the change even within one tick."""
    previous = path.stat().st_mtime if path.exists() else time.time() - 10
    path.write_text(text, encoding="utf-8")
    bumped = max(previous + 1, time.time())
    os.utime(path, (bumped, bumped))
    return path


class Upstream:
    """A tiny aiohttp server on loopback, in its own thread, recording each request's raw target
    (path and query exactly as they arrived) and headers; it answers 201 `{"from": "upstream"}`."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _start(self) -> web.AppRunner:
        async def record(request: web.Request) -> web.Response:
            body = (await request.read()).decode()
            self.seen.append({"target": request.raw_path, "headers": dict(request.headers), "body": body})
            return web.json_response({"from": "upstream"}, status=201)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    def stop(self) -> None:
        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


def raw_request(port: int, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET `target` exactly as written (http.client sends it unchanged: no client normalises it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
