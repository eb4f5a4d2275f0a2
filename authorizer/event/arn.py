"""execute-api ARNs: parse the incoming methodArn/routeArn, build the resources an Allow covers.

The ARN is split on its first five colons only: request paths may themselves contain ':'.
Responses are always built from the incoming ARN's own partition, region, account and API id
(Powertools' builders drop the partition, which breaks aws-cn and aws-us-gov).
"""

from __future__ import annotations

MAX_RESOURCE_LENGTH = 512  # API Gateway's limit for a Resource in a returned policy statement


class ArnError(ValueError):
    """The event's ARN is not an execute-api ARN; the request is refused."""


class ExecuteApiArn:
    """A parsed execute-api ARN, compared by value. A plain class: a dataclass or a NamedTuple costs
    every cold start a few hundred µs to create."""

    __slots__ = ("account", "api", "method", "partition", "path", "region", "stage")

    def __init__(self, partition: str, region: str, account: str, api: str, stage: str, method: str, path: str) -> None:
        self.partition = partition
        self.region = region
        self.account = account
        self.api = api
        self.stage = stage
        self.method = method  # HTTP verb, or "" for a WebSocket route such as $connect
        self.path = path  # "/"-prefixed request path ("/" for the root), or the WebSocket route key

    def _parts(self) -> tuple[str, ...]:
        return (self.partition, self.region, self.account, self.api, self.stage, self.method, self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecuteApiArn) and self._parts() == other._parts()

    def __hash__(self) -> int:
        return hash(self._parts())

    def __repr__(self) -> str:
        return f"ExecuteApiArn{self._parts()!r}"

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
