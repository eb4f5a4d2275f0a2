"""`authorizer diff`: what a policy change changes for real requests, before it ships.

Both versions decide the same requests — generated from the classes of values every condition
tells apart (classes.py, languages.py, generate.py, requests.py) and recorded ones (corpus.py) —
and every decision that changes is grouped and explained (changes.py, compare.py), judged against
the exit-code contract and the declared changes (verdict.py, expect.py) and printed (formats.py).
Versions come from files or git revisions (versions.py). A layer of its own, between the tools
(it reads test suites) and the CLI.
"""
