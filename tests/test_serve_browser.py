"""A person in a browser: headless Chromium loads the gateway's HTML page; we check what it rendered.

Needs Debian's `chromium` (`.ci/run` installs it); skipped only when it is not installed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tests import test_serve_support as support

serve = support.serve  # the fixture

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (.ci/run installs it)")

# identity in the query string: a browser's address bar cannot set headers
POLICY = """
version: 1
rules:
  - name: admins
    effect: allow
    when:
      query.user: {prefix: admin-}
      query.role: admin
    principal: {from: query.user}
    context:
      tier: gold
  - name: readers
    effect: allow
    routes: ["GET /docs/*"]
    when:
      query.user: {exists: true}
"""
WIDTH, HEIGHT = 1000, 800


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_refusal_page_renders_with_its_trace_in_chromium(serve, tmp_path):
    server = serve(POLICY, "--ttl", "0")
    url = server.url("/admin/panel?user=alice&role=reader")
    dom = chromium(tmp_path / "profile-dom", "--dump-dom", url)
    assert "401 Unauthorized" in dom.stdout, dom.stderr[-2000:]
    assert "Why: every condition tried" in dom.stdout  # the browser got the page, not API Gateway's JSON
    assert "admin-" in dom.stdout and "GET /docs/*" in dom.stdout  # why `admins` and `readers` did not match

    shot = tmp_path / "page.png"
    result = chromium(tmp_path / "profile-shot", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url)
    assert shot.exists(), result.stderr[-2000:]
    assert png_size(shot) == (WIDTH, HEIGHT)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few KB; text, tables and colour do not
    assert "GET /dev/admin/panel 401 unauthorized" in server.log()
