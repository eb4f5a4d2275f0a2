"""Policy text → compiled policy, knowing nothing of how a request is decided.

`load` (YAML with positions → `model` validation → `compiler`) returns a `LoadedPolicy`: the
compiled policy (`ir`) with its source map. Identity sources are named and read in `sources`,
operators are one table in `operators`, `lint` and `check` say what a policy that loads probably
does not mean.
"""
