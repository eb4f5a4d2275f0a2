"""An API's routes as its definition declares them, for the local gateway (`--openapi`, `--sam-template`).

OpenAPI 3 or Swagger 2 (JSON or YAML): every operation under `paths` (`x-amazon-apigateway-any-method`
is `ANY`). A SAM template: the `Api` (REST) or `HttpApi` (HTTP) events of its functions, the
`DefinitionBody` of its `AWS::Serverless::Api`/`HttpApi` resources, and the `RouteKey` of its
`AWS::ApiGatewayV2::Route` resources. CloudFormation tags (`!Ref`, `!Sub`) are read as unknown
values: a route whose path or method is not written out is an error naming where it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from authorizer.event.kinds import Api

_VERBS = {"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}
_SAM_EVENTS: dict[Api, str] = {"rest": "Api", "http": "HttpApi"}
_SAM_APIS: dict[Api, str] = {"rest": "AWS::Serverless::Api", "http": "AWS::Serverless::HttpApi"}


class ApiDefinitionError(ValueError):
    """The file cannot be read, or a route in it is not written out (one line)."""


class _Loader(yaml.SafeLoader):
    """Safe YAML that reads any tag (`!Ref x`) as an unknown value (None)."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _read(path: str) -> Mapping[str, Any]:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except OSError as exc:
        raise ApiDefinitionError(f"{path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ApiDefinitionError(f"{path}: not YAML or JSON ({type(exc).__name__})") from None
    if not isinstance(data, Mapping):
        raise ApiDefinitionError(f"{path}: not a mapping")
    return data


def openapi_routes(path: str) -> list[str]:
    """`METHOD /path` for every operation of an OpenAPI (or Swagger) document."""
    data = _read(path)
    if not isinstance(data.get("paths"), Mapping):
        raise ApiDefinitionError(f"{path}: no `paths` (not an OpenAPI or Swagger document)")
    return _paths(data["paths"], path)


def sam_routes(path: str, api: Api) -> list[str]:
    """`METHOD /path` for every route a SAM template gives its REST (`api="rest"`) or HTTP APIs."""
    resources = _read(path).get("Resources")
    if not isinstance(resources, Mapping):
        raise ApiDefinitionError(f"{path}: no `Resources` (not a SAM template)")
    routes: list[str] = []
    for name, resource in resources.items():
        if not isinstance(resource, Mapping):
            continue
        kind, properties = resource.get("Type"), resource.get("Properties") or {}
        if kind == "AWS::Serverless::Function":
            events = properties.get("Events") or {}
            for event_name, event in events.items() if isinstance(events, Mapping) else ():
                if isinstance(event, Mapping) and event.get("Type") == _SAM_EVENTS[api]:
                    where = f"{path}: Resources.{name}.Properties.Events.{event_name}"
                    routes.extend(_event_route(event.get("Properties") or {}, where, api))
        elif kind == _SAM_APIS[api] and isinstance(properties.get("DefinitionBody"), Mapping):
            body = properties["DefinitionBody"]
            if isinstance(body.get("paths"), Mapping):
                routes.extend(_paths(body["paths"], f"{path}: Resources.{name}.Properties.DefinitionBody"))
        elif kind == "AWS::ApiGatewayV2::Route" and api == "http":
            key = properties.get("RouteKey")
            if not isinstance(key, str):
                raise ApiDefinitionError(f"{path}: Resources.{name}.Properties.RouteKey is not written out")
            if " " in key:  # not `$default`, `$connect` or a WebSocket route
                routes.append(key)
    return routes


def _event_route(properties: Mapping[str, Any], where: str, api: Api) -> list[str]:
    method, route_path = properties.get("Method"), properties.get("Path")
    if api == "http" and method is None and route_path is None:
        return []  # the $default route
    if not isinstance(method, str) or not isinstance(route_path, str):
        raise ApiDefinitionError(f"{where}: Method and Path must be written out (or use --route)")
    return [f"{method.upper()} {route_path}"]


def _paths(paths: Mapping[str, Any], where: str) -> list[str]:
    routes = []
    for route_path, operations in paths.items():
        if not isinstance(route_path, str) or not isinstance(operations, Mapping):
            raise ApiDefinitionError(f"{where}: paths: {route_path!r} is not a path with operations")
        for verb in operations:
            if isinstance(verb, str) and verb.lower() in _VERBS:
                method = "ANY" if verb.lower() == "x-amazon-apigateway-any-method" else verb.upper()
                routes.append(f"{method} {route_path}")
    return routes
