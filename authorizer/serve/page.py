"""The page a browser gets: the decision, the deciding rule, principal, context and the trace.

API clients get API Gateway's exact JSON bodies; a browser (Accept: text/html) gets this page
instead, so a person trying rules sees why each rule did or did not match, and the JSON API clients
get (indented). Values are shown redacted (shown.py; the trace as the engine recorded it). JSON is
written by `json.dumps` and escaped by Jinja2's autoescape (its own `tojson` writes `<` as `\u003c`,
which `<redacted>` would show as); text written with Markdown backticks shows them as code.
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from authorizer.serve.gateway import Gateway, GatewayAnswer
from authorizer.serve.shown import shown_authorizer

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ status }} {{ headline }} · authorizer serve</title>
<style>
 body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f5f6f8; }
 header { padding: 18px 28px; color: #fff; background: {{ colour }}; }
 header h1 { margin: 0; font-size: 26px; } header p { margin: 4px 0 0; opacity: .92; }
 main { padding: 8px 28px 28px; } section { background: #fff; border-radius: 8px; padding: 12px 18px;
   margin: 14px 0; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
 h2 { font-size: 16px; margin: 2px 0 8px; } code, td.v { font-family: ui-monospace, monospace; font-size: 13px; }
 table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px;
   border-bottom: 1px solid #e6e8eb; vertical-align: top; } th { color: #5b6570; font-weight: 600; }
 dl { display: grid; grid-template-columns: max-content auto; gap: 4px 18px; margin: 0; } dt { color: #5b6570; }
 dd { margin: 0; } .note { background: #fff6e0; border-left: 4px solid #e0a100; }
 .warn { background: #fdecea; border-left: 4px solid #c62828; } pre { margin: 6px 0 0; white-space: pre-wrap; }
 .true { color: #1a7f37; font-weight: 600; } .false, .missing, .ambiguous, .error { color: #c62828; font-weight: 600; }
</style></head><body>
<header><h1>{{ status }} {{ headline }}</h1><p>{{ summary }}</p></header>
<main>
{% if policy_error %}<section class="warn"><h2>The last policy edit did not load</h2>
<p>It failed to load, so the last good policy is still in use (<code>{{ digest }}</code>):</p>
<pre>{{ policy_error | code }}</pre></section>{% endif %}
{% if outcome.note %}<section class="note"><h2>Authorizer caching</h2>
<p>{{ outcome.note | code }}</p></section>{% endif %}
<section><h2>Request</h2><dl>
 <dt>route</dt><dd><code>{{ outcome.route }}</code> ({{ outcome.kind }} event)</dd>
 <dt>request id</dt><dd><code>{{ outcome.request_id }}</code></dd>
 <dt>identity sources</dt><dd>{% for s in identity %}<code>{{ s }}</code>{% if not loop.last %}, {% endif %}
   {% else %}none (the authorizer is called for every request){% endfor %}</dd>
 {% if outcome.cached %}<dt>answer</dt><dd>cached: decided for <code>{{ outcome.cached.route }}</code>
   {{ cached_age }} s ago (TTL {{ ttl }} s)</dd>{% endif %}
</dl></section>
<section><h2>Decision</h2><dl>
 <dt>gateway</dt><dd>{{ verdict_text | code }}</dd>
 <dt>authorizer</dt><dd>{{ outcome.reason | code }}</dd>
 {% if decision %}<dt>deciding rule</dt>
 <dd>{% if decision.rule %}<code>{{ decision.rule }}</code>{% else %}none{% endif %}</dd>
 <dt>principal</dt><dd>{% if principal %}<code>{{ principal }}</code>{% else %}none{% endif %}</dd>{% endif %}
</dl>
{% if context %}<h2 style="margin-top:12px">Context</h2><table>
 <tr><th>key</th><th>value</th></tr>
 {% for k, v in context.items() %}
 <tr><td><code>{{ k }}</code></td><td class="v">{{ v | json }}</td></tr>{% endfor %}
</table>{% endif %}
{% if authorizer %}<h2 style="margin-top:12px">What the integration receives</h2>
<p><code>requestContext.authorizer</code> = <code>{{ authorizer | json }}</code></p>{% endif %}
</section>
{% if trace %}<section>
<h2>Why: every condition tried{% if outcome.cached %} (when the answer was decided){% endif %}</h2>
<table><tr><th>rule</th><th>source</th><th>operator</th><th>expected</th><th>actual</th><th>result</th></tr>
{% for t in trace %}<tr><td><code>{{ t.rule }}</code></td><td><code>{{ t.source }}</code></td><td>{{ t.op }}</td>
 <td class="v">{{ t.expected | json }}</td><td class="v">{{ t.actual | json }}</td>
 <td class="{{ t.outcome }}">{{ t.outcome }}</td></tr>{% endfor %}
</table></section>{% elif outcome.verdict == "missing-identity" %}<section><h2>Why</h2>
<p>API Gateway checks the identity sources before calling the authorizer: one is missing or empty,
so the authorizer was not called and no rule was tried.</p></section>{% endif %}
<section><h2>What API clients get</h2><p>{{ status }}, with this JSON body:</p>
<pre class="v">{{ body | json(2) }}</pre></section>
<section><h2>Policy</h2><dl><dt>file</dt><dd><code>{{ policy_file }}</code></dd>
 <dt>digest</dt><dd><code>{{ digest }}</code></dd>
 {% if policy_error %}<dt>last reload</dt><dd class="false">failed (see the top of this page)</dd>{% endif %}
</dl></section>
</main></body></html>
"""

_HEADLINES = {200: "Allowed", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Authorizer error"}
_COLOURS = {200: "#1a7f37", 400: "#b26a00", 401: "#b26a00", 403: "#c62828", 500: "#6a1b9a"}
_VERDICTS = {
    "allow": "the returned policy allows this route's ARN: the request goes to the integration",
    "explicit-deny": "the returned answer denies this route (explicit Deny, or isAuthorized false): 403",
    "implicit-deny": "no Allow statement in the returned policy covers this route's ARN (implicit deny): 403",
    "unauthorized": "the authorizer refused (raised Unauthorized): 401",
    "missing-identity": "an identity source is missing: 401 without calling the authorizer",
    "malformed": "the authorizer's answer is not one API Gateway can use: 500",
    "bad-request": "the request is refused before the authorizer (400): the authorizer was not called",
}


def _json(value: Any, indent: int | None = None) -> str:
    """JSON as text (autoescape escapes it once): `"<redacted>"`, never `"\u003credacted\u003e"`."""
    return json.dumps(value, ensure_ascii=False, default=str, indent=indent)


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _code(text: str) -> Markup:
    """Escaped text with its Markdown code spans (`resource: stage`) as <code>."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["json"] = _json
    env.filters["code"] = _code
    return env.from_string(_TEMPLATE)


def render_page(outcome: GatewayAnswer, gateway: Gateway, body: dict[str, Any]) -> str:
    """The page for this answer; `body` is the JSON API clients get (already redacted)."""
    policy = gateway.store.current()
    decision = outcome.decision
    if outcome.status == 200:
        summary = "The authorizer allowed this request; this page is the built-in echo backend."
    else:
        compact = json.dumps(outcome.body, separators=(",", ":"))
        summary = f"API Gateway answers {outcome.status} {compact} to API clients; this page is for browsers."
    values: dict[str, Any] = {
        "status": outcome.status,
        "headline": _HEADLINES.get(outcome.status, ""),
        "colour": _COLOURS.get(outcome.status, "#37474f"),
        "summary": summary,
        "outcome": outcome,
        "body": body,
        "decision": decision,
        "principal": decision.shown_principal() if decision is not None else None,
        "context": decision.shown_context(decision.context) if decision is not None else {},
        "authorizer": shown_authorizer(outcome.authorizer, decision, outcome.kind),
        "verdict_text": _VERDICTS[outcome.verdict],
        "trace": [t.as_dict() for t in (decision.trace or ())] if decision is not None else [],
        "identity": gateway.identity.sources,
        "ttl": gateway.config.ttl,
        "cached_age": int(time.time() - outcome.cached.at) if outcome.cached else 0,
        "policy_file": gateway.store.location,
        "digest": policy.digest[:12] if policy is not None else "none loaded: every request is refused",
        "policy_error": gateway.store.last_error,
    }
    return _template().render(values)
