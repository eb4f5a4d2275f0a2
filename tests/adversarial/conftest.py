"""Both ways the Lambda answers: the policy's generated function, and the engine (decision records)."""

from __future__ import annotations

from typing import Any

from authorizer.decide.evaluate import evaluate
from authorizer.decide.generated import FALLBACK
from authorizer.policy.ir import CompiledPolicy
from authorizer.stores.base import StaticPolicyStore
from tests.conftest import compile_yaml, generated_response


def served(text: str) -> CompiledPolicy:
    """A policy as the Lambda serves it: compiled, with its generated decision function."""
    policy = StaticPolicyStore(compile_yaml(text)).current()
    assert policy is not None and policy.fast is not None
    return policy


def both_paths(policy: CompiledPolicy, event: Any) -> tuple[Any, Any]:
    """(the generated function's answer, the engine's), where FALLBACK means the engine answers for both."""
    engine = evaluate(event, policy).response
    fast = generated_response(event, policy)
    return (engine if fast is FALLBACK else fast), engine


def allowed(response: Any) -> bool:
    if response is None:
        return False
    if "isAuthorized" in response:
        return response["isAuthorized"] is True
    return any(s["Effect"] == "Allow" for s in response["policyDocument"]["Statement"])
