"""A policy-driven, configurable Lambda authorizer for Amazon API Gateway."""

__version__ = "0.1.0"
