"""Compiled policy × request → decision → API Gateway's answer.

`evaluate` (evaluate.py) is the library API. Two back ends decide the same way: the engine
(engine.py, with an optional trace) and the policy's generated function (generated.py, which the
Lambda asks first). Both evaluate conditions through `conditions`, answer
through `outcome` and find candidate rules through `candidates`; `response` builds and checks
what API Gateway receives.
"""
