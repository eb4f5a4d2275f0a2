"""Claims that carry personal data: marked for redaction wherever claims are shown or logged.

The OpenID Connect standard claims about the person (OIDC Core §5.1, all but `sub` and
`updated_at`), and the provider claims that usually hold a name, an e-mail address or an IP
address (Cognito's `cognito:username`, Microsoft Entra's `upn`, `unique_name`, `ipaddr`, and
`username`). `sub` is an opaque identifier and is shown. A deployment can mark more names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PERSONAL_CLAIMS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "cognito:username",
        "username",
        "upn",
        "unique_name",
        "ipaddr",
    }
)
REDACTED = "<redacted>"


def shown(claims: Mapping[str, Any], more: Iterable[str] = ()) -> dict[str, Any]:
    """The claims as they may be shown: personal ones (and `more`) replaced by a marker."""
    hidden = PERSONAL_CLAIMS.union(more)
    return {name: REDACTED if name in hidden else value for name, value in claims.items()}
