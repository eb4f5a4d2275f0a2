"""Bearer tokens: verifying compact JWS tokens (JWTs) signed with an issuer's asymmetric keys.

This layer knows nothing of policies. A policy compiler builds one `Issuers` per policy load
(`verify.compile_issuers`) and asks it, per request, `verify(token, now)` → `Verified` or `Failure`
(a reason code from `reasons.REASONS`); `verify` never raises. Importing this package imports
nothing: `cryptography` arrives with `keys.py`, only for policies that verify tokens.

Modules: `reasons` (codes, `Failure`), `b64` and `jose` (the compact form, strict JSON), `keys`
(JWK → public key with its algorithm pinned), `fetch` (a bounded HTTPS GET), `jwks` (key sets, an
issuer's keys and the penalty box), `cache` (verified tokens), `claims` (personal-data claims),
`verify` (issuer configuration and the verification rules), `mint` (development keys and tokens),
`attacks` (tokens every verifier must refuse). docs/tokens.md is the guide.
"""

from pathlib import Path

DEV_KEYS = Path(".authorizer") / "dev-keys"  # development keys (`mint.KeyFolder`), relative to the working directory
