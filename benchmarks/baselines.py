"""What the authorizer is measured against, run in the same process.

- `HAND_WRITTEN`: each shipped policy written by hand in plain Python, the way the AWS docs write
  the example (a `generate_policy` helper, dict lookups, `raise Exception("Unauthorized")`). This
  is the floor: no event-kind detection, no multi-value or case-conflict checks, first header
  spelling that matches wins. Secrets are compared with `hmac.compare_digest`, as anyone would.
- `example_same_guarantees`: the example by hand again, but giving what the authorizer guarantees
  (header names in any case, both value maps read and conflicts refused, the `HeaderAuth1`
  credential compared in constant time through digests, the ARN checked): what the floor leaves out.
- `Naive`: the usual "policy engine in an afternoon": the YAML loaded with `yaml.safe_load`, a
  request view with lower-cased header names built per request, and every condition evaluated
  with `jmespath.search` on every request, rules tried in order.

The suite checks, event by event, that every contender gives the same answer before timing it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jmespath
import yaml

Handler = Callable[[Any, Any], Any]
UNAUTHORIZED = "Unauthorized"


def generate_policy(
    principal: str, effect: str, resource: str, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        response["context"] = context
    return response


def _header(headers: dict[str, str], name: str, lowered: str) -> str | None:
    return headers.get(name) or headers.get(lowered)


# -- policies/example.yaml --------------------------------------------------------------------
def example(event: Any, context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    stage_variables = event.get("stageVariables") or {}
    request_context = event.get("requestContext") or {}
    if (
        _header(headers, "HeaderAuth1", "headerauth1") == "headerValue1"
        and query.get("QueryString1") == "queryValue1"
        and stage_variables.get("StageVar1") == "stageValue1"
        and request_context.get("accountId") == "123456789012"
    ):
        arn = event.get("routeArn") or event["methodArn"]
        return generate_policy("me", "Allow", arn, {"stringKey": "stringval", "numberKey": 123, "booleanKey": True})
    raise Exception(UNAUTHORIZED)


_WANT = hashlib.sha256(b"headerValue1").digest()


def _values(event: dict[str, Any], single: str, multi: str, name: str, fold_case: bool) -> set[str]:
    """Every value of one name, from both maps, in any case when folding; comma-split for HTTP API 2.0."""
    found: set[str] = set()
    for key, values in (event.get(multi) or {}).items():
        if (key.lower() if fold_case else key) == name:
            found.update(values)
    for key, value in (event.get(single) or {}).items():
        if (key.lower() if fold_case else key) == name:
            found.update(value.split(",") if event.get("version") == "2.0" else [value])
    return found


def example_same_guarantees(event: Any, context: Any) -> dict[str, Any]:
    """The example by hand, with the guarantees the authorizer gives: any event kind, header names in
    any case, every value of a repeated name looked at (two different values refuse), the credential
    compared in constant time, an execute-api ARN required."""
    if not isinstance(event, dict) or event.get("type") != "REQUEST":
        raise Exception(UNAUTHORIZED)
    arn = event.get("routeArn") if event.get("version") == "2.0" else event.get("methodArn")
    if not isinstance(arn, str) or arn.split(":", 3)[2:3] != ["execute-api"]:
        raise Exception(UNAUTHORIZED)
    header = _values(event, "headers", "multiValueHeaders", "headerauth1", True)
    query = _values(event, "queryStringParameters", "multiValueQueryStringParameters", "QueryString1", False)
    stage_variable = (event.get("stageVariables") or {}).get("StageVar1")
    account = (event.get("requestContext") or {}).get("accountId")
    if (
        len(header) == 1
        and hmac.compare_digest(hashlib.sha256(next(iter(header)).encode()).digest(), _WANT)
        and query == {"queryValue1"}
        and stage_variable == "stageValue1"
        and account == "123456789012"
    ):
        return generate_policy("me", "Allow", arn, {"stringKey": "stringval", "numberKey": 123, "booleanKey": True})
    raise Exception(UNAUTHORIZED)


# -- policies/api-keys.yaml -------------------------------------------------------------------
_BLOCKED = [ipaddress.ip_network(n) for n in ("203.0.113.0/24", "2001:db8:bad::/48")]
_PARTNERS = {
    "acme-7f3a9c2e41b8": ("acme", "gold", [ipaddress.ip_network(n) for n in ("198.51.100.0/24", "2001:db8:ace::/48")]),
    "globex-0d5e9a77c3f1": ("globex", "silver", [ipaddress.ip_network("192.0.2.0/24")]),
}
_OPERATOR_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "fd00::/8")]


def api_keys(event: Any, context: Any) -> dict[str, Any]:
    identity = (event.get("requestContext") or {}).get("identity") or {}
    ip = ipaddress.ip_address(str(identity.get("sourceIp")))
    arn = event["methodArn"]
    stage_arn = "/".join(arn.split("/")[:2]) + "/*"
    if any(ip in network for network in _BLOCKED):
        return generate_policy("blocked", "Deny", stage_arn)
    key = _header(event.get("headers") or {}, "X-Api-Key", "x-api-key")
    partner = _PARTNERS.get(key or "")
    if partner is not None and any(ip in network for network in partner[2]):
        response = generate_policy(partner[0], "Allow", stage_arn, {"partner": partner[0], "tier": partner[1]})
        response["usageIdentifierKey"] = key
        return response
    ops_key = os.environ.get("OPS_API_KEY", "")
    operator = key and ops_key and hmac.compare_digest(key.encode(), ops_key.encode())
    if operator and any(ip in network for network in _OPERATOR_NETWORKS):
        return generate_policy("ops", "Allow", stage_arn, {"partner": "internal", "tier": "ops"})
    raise Exception(UNAUTHORIZED)


# -- policies/http-routes.yaml (HTTP API 2.0, simple responses) ------------------------------
_USER = re.compile(r"[a-z][a-z0-9._-]{1,31}")
_PET = re.compile(r"/pets/[^/]+")


def http_routes(event: Any, context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    http = (event.get("requestContext") or {}).get("http") or {}
    method, path = http.get("method"), http.get("path") or ""
    if headers.get("user-agent", "").startswith("petstore-client/0."):
        return {"isAuthorized": False}
    if method == "GET" and (path == "/pets" or _PET.fullmatch(path)):
        return {"isAuthorized": True, "context": {"role": "public"}}
    role, user = headers.get("x-role"), headers.get("x-user") or ""
    if _USER.fullmatch(user):
        if ((method == "POST" and path == "/pets") or (method == "PUT" and _PET.fullmatch(path))) and role in (
            "staff",
            "admin",
        ):
            return {"isAuthorized": True, "context": {"role": role, "user": user}}
        if method == "DELETE" and _PET.fullmatch(path) and role == "admin":
            return {"isAuthorized": True, "context": {"role": "admin", "user": user}}
    return {"isAuthorized": False}


# -- policies/websocket-chat.yaml -------------------------------------------------------------
_ROOM = re.compile(r"[a-z0-9-]{1,32}")
_ORIGINS = ("https://chat.example.com", "https://www.example.com")


def websocket_chat(event: Any, context: Any) -> dict[str, Any]:
    query = event.get("queryStringParameters") or {}
    ticket, room = query.get("ticket") or "", query.get("room") or ""
    origin = _header(event.get("headers") or {}, "Origin", "origin")
    expected = os.environ.get("CHAT_TICKET", "")
    if (
        event["methodArn"].endswith("/$connect")
        and expected
        and hmac.compare_digest(ticket.encode(), expected.encode())
        and _ROOM.fullmatch(room)
        and origin in _ORIGINS
    ):
        return generate_policy(room, "Allow", event["methodArn"], {"room": room, "origin": origin})
    raise Exception(UNAUTHORIZED)


HAND_WRITTEN: dict[str, Handler] = {
    "example": example,
    "api-keys": api_keys,
    "http-routes": http_routes,
    "websocket-chat": websocket_chat,
}


# -- the naive engine -------------------------------------------------------------------------
def _view(event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    holder = context.get("http") if event.get("version") == "2.0" else context.get("identity")
    parts = [*(event.get("routeArn") or event.get("methodArn") or "").split("/", 3), "", ""]
    method, path = ("", parts[2]) if parts[2].startswith("$") else (parts[2], "/" + parts[3])
    return {
        "headers": {k.lower(): v for k, v in (event.get("headers") or {}).items()},
        "query": event.get("queryStringParameters") or {},
        "stage": event.get("stageVariables") or {},
        "context": context,
        "source_ip": (holder or {}).get("sourceIp"),
        "route": {"method": method, "path": path},
    }


def _expression(source: str) -> str:
    family, _, name = source.partition(".")
    if source == "source_ip":
        return "source_ip"
    root = {"header": "headers", "query": "query", "stage": "stage", "context": "context"}[family]
    parts = [name.lower()] if family == "header" else name.split(".") if family == "context" else [name]
    return root + "".join(f'."{part}"' for part in parts)


def _route_regex(route: str) -> re.Pattern[str]:
    if route.startswith("$"):
        return re.compile(re.escape(route))
    method, _, path = route.partition(" ")
    pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path)).replace(r"\*", ".*")
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
    return re.compile(("[A-Z]+" if method == "ANY" else method) + " " + pattern)


class Naive:
    """YAML + `jmespath.search` per condition per request, rules in order."""

    def __init__(self, path: Path) -> None:
        self.policy: dict[str, Any] = yaml.safe_load(path.read_text())
        self.routes = {
            rule["name"]: [_route_regex(r) for r in rule["routes"]] for rule in self.policy["rules"] if "routes" in rule
        }

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        view = _view(event)
        route = (view["route"]["method"] + " " + view["route"]["path"]).strip()
        for rule in self.policy["rules"]:
            if rule["name"] in self.routes and not any(p.fullmatch(route) for p in self.routes[rule["name"]]):
                continue
            if all(self._holds(jmespath.search(_expression(s), view), c) for s, c in rule.get("when", {}).items()):
                return self._respond(rule, event, view)
        if self.policy.get("response") == "simple":
            return {"isAuthorized": False}
        raise Exception(UNAUTHORIZED)

    def _holds(self, value: Any, condition: Any) -> bool:
        if value is None:
            return False
        if not isinstance(condition, dict):
            return value in condition if isinstance(condition, list) else value == condition
        for op, arg in condition.items():
            if op == "prefix" and not str(value).startswith(arg):
                return False
            if op == "regex" and not re.fullmatch(arg, str(value)):
                return False
            if op == "glob" and not fnmatch.fnmatchcase(str(value), arg):
                return False
            if op == "cidr":
                address = ipaddress.ip_address(value)
                if not any(address in ipaddress.ip_network(n) for n in ([arg] if isinstance(arg, str) else arg)):
                    return False
            if op == "secret":
                secret = os.environ.get(self.policy["secrets"][arg]["env"], "")
                if not secret or not hmac.compare_digest(str(value).encode(), secret.encode()):
                    return False
        return True

    def _output(self, spec: Any, view: dict[str, Any]) -> Any:
        return jmespath.search(_expression(spec["from"]), view) if isinstance(spec, dict) else spec

    def _respond(self, rule: dict[str, Any], event: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        context = {k: self._output(v, view) for k, v in rule.get("context", {}).items()}
        if self.policy.get("response") == "simple":
            allowed = rule["effect"] == "allow"
            return {"isAuthorized": True, "context": context} if allowed and context else {"isAuthorized": allowed}
        arn = event.get("routeArn") or event["methodArn"]
        if self.policy.get("resource", "method") == "stage":
            arn = "/".join(arn.split("/")[:2]) + "/*"
        principal = self._output(rule.get("principal", rule["name"]), view)
        response = generate_policy(principal, rule["effect"].capitalize(), arn, context)
        if "usage_identifier_key" in rule:
            response["usageIdentifierKey"] = self._output(rule["usage_identifier_key"], view)
        return response
