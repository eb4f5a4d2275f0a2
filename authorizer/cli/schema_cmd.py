"""`authorizer schema [policy|test-suite]`: the JSON Schema of a policy file (or of a test-suite file),
generated from the pydantic models, so that editors autocomplete and underline mistakes.

`schemas/*.schema.json` are this command's output, kept equal by a test. Two touches beyond
pydantic's output: optional keys do not advertise `null` (in a policy an empty value is always a
mistake), and the keys of a `when` mapping are constrained to identity sources and combinators.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from authorizer.cli.io import EXIT_OK

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS = {"policy": "policy.schema.json", "test-suite": "test-suite.schema.json"}


class _PolicySchema(GenerateJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated


def _when_keys() -> str:
    """A regex for the keys allowed in `when`, from the identity-source table itself."""
    from authorizer.policy.compiler import COMBINATORS
    from authorizer.policy.sources import CLAIM_PATTERN, FAMILIES, FIXED

    fixed = "|".join(re.escape(name) for name in (*COMBINATORS, *FIXED))
    families = "|".join(FAMILIES)
    return f"^(?:{fixed}|(?:{families})\\..+|{CLAIM_PATTERN})$"


def _document(model: type[BaseModel], generator: type[GenerateJsonSchema]) -> dict[str, Any]:
    return {"$schema": DIALECT, **model.model_json_schema(by_alias=True, schema_generator=generator)}


def policy_schema() -> dict[str, Any]:
    from authorizer.policy.model import Policy

    schema = _document(Policy, _PolicySchema)
    schema["$defs"]["When"]["propertyNames"] = {"pattern": _when_keys()}
    return schema


def suite_schema() -> dict[str, Any]:
    from authorizer.testing.suite import Suite

    return _document(Suite, GenerateJsonSchema)


def render(which: str) -> str:
    """The schema as written to schemas/ (stable key order, trailing newline)."""
    schema = policy_schema() if which == "policy" else suite_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of policy files (or of test-suite files)",
        description="Print the JSON Schema generated from the pydantic models (schemas/ holds this output).",
    )
    p.add_argument("which", nargs="?", choices=sorted(SCHEMAS), default="policy", help="policy (default) or test-suite")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(render(args.which), end="")
    return EXIT_OK
