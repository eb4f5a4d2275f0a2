"""Why a token was not verified: one code per rule, for logs and `--explain`.

A code names the rule that refused the token, never anything the token holds: no claim, no header
value, no part of the token text. Codes before `token.bad_signature` in the verification order
describe a token whose signature was not checked yet (docs/tokens.md gives the order).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Reason = Literal[
    "token.missing",
    "token.multiple",
    "token.scheme",
    "token.too_large",
    "token.malformed",
    "token.encrypted",
    "token.header",
    "token.unknown_issuer",
    "token.unknown_kid",
    "token.keys_unavailable",
    "token.algorithm",
    "token.bad_signature",
    "token.claims",
    "token.expired",
    "token.not_yet_valid",
    "token.audience",
    "token.token_use",
    "token.internal",
]

REASONS: dict[Reason, str] = {
    "token.missing": "no token was sent",
    "token.multiple": "more than one token was sent",
    "token.scheme": "the token was not sent with the policy's scheme (`Bearer <token>` in a header, bare elsewhere)",
    "token.too_large": "the token is longer than the size limit",
    "token.malformed": "not a compact JWS: three canonical base64url parts holding JSON objects without "
    "duplicate names or non-numbers",
    "token.encrypted": "an encrypted token (JWE, five parts): refused",
    "token.header": "the header asks for something never honoured here (crit, b64, zip, a nested JWT)",
    "token.unknown_issuer": "iss is missing or not exactly one of the configured issuers",
    "token.unknown_kid": "kid is missing or names no usable key of the issuer",
    "token.keys_unavailable": "the issuer has no usable keys (none packaged, and none could be fetched)",
    "token.algorithm": "the header's alg is not the algorithm pinned to the key, or not allowed for the issuer",
    "token.bad_signature": "the signature does not verify with the issuer's key",
    "token.claims": "a claim is missing or has the wrong type (exp required; exp, nbf, iat numbers; ...)",
    "token.expired": "exp has passed (beyond the leeway)",
    "token.not_yet_valid": "nbf or iat is in the future (beyond the leeway)",
    "token.audience": "neither aud (nor, without aud, client_id) is one of the configured audiences",
    "token.token_use": "token_use is not the configured one (Cognito id or access token)",
    "token.internal": "an unexpected error while verifying: refused",
}


class Failure(NamedTuple):
    """The token is not verified; `reason` says which rule refused it."""

    reason: Reason

    @property
    def explanation(self) -> str:
        return REASONS[self.reason]
