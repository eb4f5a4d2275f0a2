"""The browser page, rendered in-process: redacted values read `"<redacted>"` (escaped once, never
`\\u003c`), Markdown code spans are code, a failed reload is the first thing on the page, and the
JSON API clients get is shown indented."""

from __future__ import annotations

import re
from pathlib import Path

from authorizer.serve.gateway import Gateway, GatewayConfig, Incoming
from authorizer.serve.page import render_page
from authorizer.stores.file import FilePolicyStore
from tests.test_serve_support import write_policy

POLICY = """
version: 1
resource: method
redact: [header.x-customer]
rules:
  - name: users
    effect: allow
    when:
      header.x-user: {exists: true}
      header.x-api-key: {prefix: "k-"}
    principal: {from: header.x-user}
    context:
      customer: {from: header.x-customer}
      tier: gold
"""
HEADERS = [("x-user", "alice"), ("x-api-key", "k-1"), ("x-customer", "acme-c0nfidential")]


def gateway(tmp_path: Path) -> Gateway:
    return Gateway(GatewayConfig(ttl=300), FilePolicyStore(str(write_policy(tmp_path / "p.yaml", POLICY))))


def page(gateway: Gateway, path: str) -> str:
    outcome = gateway.authorize(Incoming("GET", path, HEADERS, [], "192.0.2.1"))
    return render_page(outcome, gateway, outcome.body)


def test_redacted_values_read_as_such(tmp_path):
    text = page(gateway(tmp_path), "/pets")
    assert "\\u003c" not in text and "acme-c0nfidential" not in text and "k-1" not in text
    assert '<td class="v">&#34;&lt;redacted&gt;&#34;</td>' in text  # the context value and the trace's
    assert "&#34;customer&#34;: &#34;&lt;redacted&gt;&#34;" in text  # requestContext.authorizer


def test_code_spans_are_code_and_backticks_never_show(tmp_path):
    served = gateway(tmp_path)
    page(served, "/pets")
    text = page(served, "/orders")  # the cached answer for /pets refuses /orders: the caching note
    assert "Authorizer caching" in text
    assert "<code>resource: stage</code>" in text and "<code>routes</code>" in text
    assert "`" not in text


def test_a_failed_reload_is_at_the_top(tmp_path):
    served = gateway(tmp_path)
    write_policy(Path(served.store.location), "version: 1\nrules:\n  - name: x\n    efect: allow\n")
    assert isinstance(served.store, FilePolicyStore) and not served.store.reload()
    text = page(served, "/pets")
    warning = text.index("The last policy edit did not load")
    assert warning < text.index("<h2>Request</h2>") and warning < text.index("<h2>Decision</h2>")
    assert "the last good policy is still in use" in text and "p.yaml:4:5: unknown key" in text


def test_the_json_api_clients_get_is_indented(tmp_path):
    served = gateway(tmp_path)
    page(served, "/pets")
    text = page(served, "/orders")
    shown = re.search(r'<pre class="v">(.*?)</pre>', text, re.DOTALL)
    assert shown is not None
    assert shown.group(1) == "{\n  &#34;Message&#34;: &#34;User is not authorized to access this resource&#34;\n}"
