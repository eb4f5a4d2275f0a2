"""The policy file's structure, as pydantic models: the single source of truth for validation and
for the JSON Schema (`authorizer schema`).

These models check structure and types. What needs more than a type (identity-source names,
regexes, CIDRs, JMESPath, routes) is checked when the policy is compiled, with the same
file:line:col locations. Requests never touch pydantic: the compiler works on the validated,
plain-data dump of these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
)

FiniteFloat = Annotated[float, Field(strict=True), AllowInfNan(False)]  # NaN/Infinity are not JSON
Scalar = StrictStr | StrictInt | FiniteFloat | StrictBool
Number = StrictInt | FiniteFloat
ValuesMode = Literal["single", "any", "all", "joined"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FromRequest(_Strict):
    """An output taken from the request, e.g. `{from: header.x-user}`."""

    from_: str = Field(alias="from", description="Identity source to copy the value from.")
    join: StrictStr | None = Field(
        None,
        description="Outputs only: every value joined with this separator into one string, e.g. "
        '`{from: jwt[cognito:groups], join: ","}` (an array claim, a repeated header).',
    )


class Operators(_Strict):
    """A condition written as a mapping: every operator given must hold."""

    equals: Scalar | FromRequest | None = Field(
        None, description="Type-strict equality; `{from: SOURCE}` compares with another source (both present)."
    )
    not_equals: Scalar | FromRequest | None = Field(
        None, description="Present and not equal; `{from: SOURCE}`: another source, both present."
    )
    one_of: list[Scalar] | None = Field(None, description="Equal to one of these.")
    not_one_of: list[Scalar] | None = Field(None, description="Present and equal to none of these.")
    prefix: StrictStr | None = None
    suffix: StrictStr | None = None
    contains: StrictStr | None = None
    regex: StrictStr | None = Field(None, description="RE2 regular expression (linear time), matched in full.")
    glob: StrictStr | None = Field(None, description="`*` any characters, `?` one character; matched in full.")
    cidr: StrictStr | list[StrictStr] | None = Field(None, description="IPv4/IPv6 network(s) the value is in.")
    lt: Number | None = None
    le: Number | None = None
    gt: Number | None = None
    ge: Number | None = None
    exists: StrictBool | None = Field(None, description="true: present; false: absent.")
    secret: StrictStr | None = Field(None, description="Equal (constant time) to the named secret.")
    not_: Condition | None = Field(None, alias="not", description="Present and the inner condition fails.")
    values: ValuesMode = Field(
        "single",
        description="When a name arrives more than once: single (default: refuse), any, all, or joined "
        "(the comma-joined string).",
    )


def _condition_tag(value: Any) -> str:
    if isinstance(value, dict | Operators):
        return "operators:"
    if isinstance(value, list):
        return "one-of:"
    return "equals:"


Condition = Annotated[
    Annotated[Operators, Tag("operators:")]
    | Annotated[list[Scalar], Tag("one-of:")]
    | Annotated[Scalar, Tag("equals:")],
    Discriminator(_condition_tag),
]


class When(BaseModel):
    """All must hold. Keys are identity sources (`header.X`, `query.X`, ...) or combinators."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    __pydantic_extra__: dict[str, Condition] = Field(init=False)

    any: list[When] | None = Field(None, description="At least one of these holds.")
    all: list[When] | None = Field(None, description="Every one of these holds.")
    not_: When | None = Field(None, alias="not", description="This does not hold (and every source in it is present).")
    jmespath: StrictStr | None = Field(None, description="JMESPath over the request view; must yield true.")


OutputSpec = Annotated[str, StringConstraints(strict=True, min_length=1)] | FromRequest  # API Gateway refuses ""
ContextValue = Scalar | FromRequest
ResourceScope = Literal["method", "stage", "api", "routes"]


class Rule(_Strict):
    name: StrictStr = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    description: StrictStr | None = None
    effect: Literal["allow", "deny"]
    routes: list[StrictStr] | None = Field(
        None, description="Only for these routes: `GET /pets/*`, `ANY /admin/{proxy+}`, `$connect`."
    )
    when: When = Field(default_factory=lambda: When())
    principal: OutputSpec | None = Field(None, description="principalId; defaults to the rule's name.")
    context: dict[str, ContextValue] = Field(default_factory=dict)
    usage_identifier_key: OutputSpec | None = None
    resource: ResourceScope | None = Field(None, description="Overrides the policy's `resource` for this rule.")


class SecretRef(_Strict):
    """Where a secret lives; exactly one of env, ssm, secretsmanager."""

    env: StrictStr | None = None
    ssm: StrictStr | None = None
    secretsmanager: StrictStr | None = None


class Cache(_Strict):
    """How API Gateway caches this authorizer's answers, declared so that `authorizer validate` can
    warn about Allows that a cached answer would wrongly re-use for another route."""

    ttl: StrictInt = Field(ge=0, le=3600, description="authorizerResultTtlInSeconds; 0 turns caching off.")
    per_route: StrictBool = Field(
        False,
        description="The route template is among the identity sources (HTTP API `$context.routeKey`), so a "
        "cached answer is re-used only for requests of the same route template.",
    )
    identity_sources: list[StrictStr] | None = Field(
        None,
        description="The authorizer's identity sources (the cache key): `header.Authorization`, "
        "`method.request.querystring.token`, ... Default: the sources every rule requires.",
    )


class Jwks(_Strict):
    """Where an issuer's public keys are: a key set packaged with the policy (used first), and/or its URL."""

    file: StrictStr | None = Field(None, description="A JWKS file, relative to the policy (packaged beside it).")
    url: StrictStr | None = Field(
        None, description="The issuer's JWKS URL (https): fetched inside a request when a kid is not packaged."
    )


class CognitoPool(_Strict):
    """An Amazon Cognito user pool: the issuer, the key set URL and RS256 follow from its id."""

    user_pool_id: StrictStr = Field(description="REGION_ID, e.g. eu-west-1_AbCdEf123.")
    client_ids: list[StrictStr] = Field(min_length=1, description="App client ids (aud, or client_id).")
    token_use: Literal["id", "access"] | None = Field(None, description="Accept only id or only access tokens.")


class TokenIssuer(_Strict):
    """One issuer of bearer tokens: `cognito:`, or `issuer` with `audiences` (and `algorithms`)."""

    cognito: CognitoPool | None = None
    issuer: StrictStr | None = Field(None, description="Exactly the tokens' `iss` (a trailing slash counts).")
    audiences: list[StrictStr] | None = Field(
        None, description="`aud` must hold one of them; a token without `aud` needs its `client_id` among them."
    )
    algorithms: list[StrictStr] | None = Field(
        None, description="Allowed algorithms (default RS256): RS/PS/ES 256-512, EdDSA; never HS* or none."
    )
    jwks: Jwks | None = Field(None, description="The issuer's keys (Cognito: the URL follows from the pool).")


class TokensSection(_Strict):
    """Bearer tokens (JWTs) verified against the issuers named here; rules read their claims as `jwt.*`."""

    from_: list[StrictStr] = Field(
        default_factory=lambda: ["token", "header.authorization"],
        alias="from",
        min_length=1,
        description="Where the token travels (exactly one may hold it): token (a TOKEN authorizer's), "
        "header.X, query.X, cookie.X.",
    )
    scheme: Literal["bearer", "raw"] = Field(
        "bearer",
        description="bearer: a header (or a TOKEN event's token) is `Bearer <jwt>`; raw: the value is the "
        "token. Query parameters and cookies always carry the bare token.",
    )
    leeway: Number = Field(0, description="Seconds of clock skew allowed on exp, nbf and iat (at most 300).")
    issuers: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]+$")], TokenIssuer] = Field(
        min_length=1, description="The issuers, by the name `jwt.issuer` compares with."
    )


class Policy(_Strict):
    schema_: StrictStr | None = Field(None, alias="$schema")
    version: Literal[1]
    description: StrictStr | None = None
    on_no_match: Literal["unauthorized", "deny"] = Field(
        "unauthorized", description="unauthorized: 401; deny: an explicit Deny policy (403)."
    )
    resource: ResourceScope = Field(
        "method", description="What an Allow covers. Anything but `method` is safe under authorizer caching."
    )
    response: Literal["iam", "simple"] = Field(
        "iam", description="HTTP API payload 2.0 only: IAM policy or simple `isAuthorized` response."
    )
    cache: Cache | None = Field(
        None, description="The authorizer's result caching in API Gateway (informs `authorizer validate`)."
    )
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    tokens: TokensSection | None = Field(
        None, description="Bearer tokens (JWTs) verified against configured issuers; rules read `jwt.*`."
    )
    redact: list[StrictStr] = Field(default_factory=list, description="More identity sources to redact in traces.")
    rules: list[Rule]


Operators.model_rebuild()
When.model_rebuild()
