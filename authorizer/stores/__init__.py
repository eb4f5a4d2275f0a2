"""Where the policy comes from: a file (`file`), or S3, SSM or AppConfig (`remote`, which imports
boto3 and is imported only for such a location); `base` keeps the last good policy."""

from __future__ import annotations

from authorizer.policy.secrets import SecretLookup
from authorizer.stores.base import PolicyStore
from authorizer.stores.file import FilePolicyStore

REMOTE_PREFIXES = ("s3:", "ssm:", "appconfig:")  # "s3:" too, to explain that s3:// is meant
REFRESH_SECONDS = 60  # how long a remote policy is used before it is fetched again, by default


def open_store(
    location: str, secrets: SecretLookup | None = None, *, refresh_seconds: int = REFRESH_SECONDS
) -> PolicyStore:
    """The store for a location (AUTHORIZER_POLICY): a file path, or a remote source fetched again
    after `refresh_seconds`."""
    if location.startswith(REMOTE_PREFIXES):
        from authorizer.stores.remote import RemotePolicyStore

        return RemotePolicyStore(location, secrets, refresh_seconds=refresh_seconds)
    return FilePolicyStore(location, secrets)
