"""A policy-driven, configurable Lambda authorizer for Amazon API Gateway."""

# The one place the version is written: pyproject.toml reads it, `authorizer --version` prints it, and
# a release is the commit tagged v<this>, with its CHANGELOG.md entry (CHANGELOG.md, "Releasing").
__version__ = "0.1.0.dev0"
