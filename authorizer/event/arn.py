"""execute-api ARNs: parse the incoming methodArn/routeArn, build the resources an Allow covers.

The ARN is split on its first five colons only: request paths may themselves contain ':'.
Responses are always built from the incoming ARN's own partition, region, account and API id
(Powertools' builders drop the partition, which breaks aws-cn and aws-us-gov).
"""

from __future__ import annotations

from typing import NamedTuple

MAX_RESOURCE_LENGTH = 512  # API Gateway's limit for a Resource in a returned policy statement


class ArnError(ValueError):
    """The event's ARN is not an execute-api ARN; the request is refused."""


class ExecuteApiArn(NamedTuple):
    """A parsed execute-api ARN (a NamedTuple: a dataclass would cost every cold start ~0.4 ms)."""

    partition: str
    region: str
    account: str
    api: str
    stage: str
    method: str  # HTTP verb, or "" for a WebSocket route such as $connect
    path: str  # "/"-prefixed request path ("/" for the root), or the WebSocket route key

    @property
    def prefix(self) -> str:
        """`arn:{partition}:execute-api:{region}:{account}:{api}`: what every built resource starts with."""
        return f"arn:{self.partition}:execute-api:{self.region}:{self.account}:{self.api}"

    @property
    def route(self) -> str:
        """The route as rules name it: `GET /pets/42`, or `$connect` for WebSocket."""
        return f"{self.method} {self.path}" if self.method else self.path

    def stage_resource(self) -> str:
        return f"{self.prefix}/{self.stage}/*"

    def api_resource(self) -> str:
        return f"{self.prefix}/*"

    def route_resource(self, method: str, path: str) -> str:
        """Resource for a route pattern; `path` already uses IAM `*` wildcards."""
        if not method:  # WebSocket route key
            return f"{self.prefix}/{self.stage}/{path}"
        return f"{self.prefix}/{self.stage}/{method}/{path.lstrip('/')}"


def parse_arn(arn: object) -> ExecuteApiArn:
    if not isinstance(arn, str):
        raise ArnError("ARN missing or not a string")
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "execute-api":
        raise ArnError("not an execute-api ARN")
    _, partition, _, region, account, rest = parts
    if not partition.startswith("aws") or not region or not account:
        raise ArnError("ARN partition, region or account missing")
    segments = rest.split("/", 3)
    if len(segments) < 3 or not all(segments[:3]):
        raise ArnError("ARN resource is not api/stage/route")
    api, stage, verb = segments[0], segments[1], segments[2]
    if len(segments) == 3 and verb.startswith("$"):  # WebSocket: api/stage/$connect
        return ExecuteApiArn(partition, region, account, api, stage, "", verb)
    path = "/" + (segments[3] if len(segments) == 4 else "")
    return ExecuteApiArn(partition, region, account, api, stage, verb, path)
