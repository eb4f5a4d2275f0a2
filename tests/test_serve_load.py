"""2,000 requests from 16 parallel clients: every one gets the status API Gateway would give.

Bounded (a fixed number of requests, loopback only); a correctness check under concurrency, not a
benchmark. Cached and fresh answers, refusals before and by the authorizer, and denies are mixed.
The clients use aiohttp's client: on a shared 2-core machine httpx spent ~7x its CPU (4.5 s against
0.6 s for these 2,000 requests), more than the server itself (~0.9 s).
"""

from __future__ import annotations

import asyncio

import aiohttp
import httpx

from tests import test_serve_support as support

serve = support.serve  # the fixture

POLICY = """
version: 1
resource: stage
rules:
  - name: banned
    effect: deny
    when:
      header.x-user: {prefix: banned-}
  - name: users
    effect: allow
    when:
      header.x-user: {prefix: user-}
"""
CLIENTS, PER_CLIENT = 16, 125
KINDS = ("user", "banned", "stranger", None)
EXPECTED = {"user": 200, "banned": 403, "stranger": 401, None: 401}


async def _client(root: str, client: int) -> list[tuple[int, int]]:
    """(expected, got) for each of this client's requests, over its own keep-alive connection."""
    results = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for i in range(PER_CLIENT):
            kind = KINDS[(client + i) % len(KINDS)]
            headers = {} if kind is None else {"x-user": f"{kind}-{i % 40}"}
            async with http.get(f"{root}/route/{i % 7}", headers=headers) as response:
                await response.read()
                results.append((EXPECTED[kind], response.status))
    return results


async def _all_clients(root: str) -> list[tuple[int, int]]:
    batches = await asyncio.gather(*(_client(root, c) for c in range(CLIENTS)))
    return [result for batch in batches for result in batch]


def test_2000_requests_from_16_clients_all_get_the_right_status(serve):
    server = serve(POLICY, "--ttl", "300")
    results = asyncio.run(_all_clients(server.root))
    assert len(results) == CLIENTS * PER_CLIENT == 2000
    wrong = [(expected, got) for expected, got in results if expected != got]
    assert wrong == []
    assert {got for _, got in results} == {200, 401, 403}
    assert server.proc.poll() is None  # still up, and still answering
    assert httpx.get(f"{server.root}/after", headers={"x-user": "user-1"}, timeout=10).status_code == 200
    log = server.log()
    assert log.count(" cached") > 0 and log.count(" 200 allow ") >= 500  # the cache was in play; every line logged
