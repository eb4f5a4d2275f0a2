"""The garbage collector, paused while a document is loaded.

Loading allocates tens of thousands of objects that all stay alive (YAML nodes, the data, validated
models, compiled rules, a test suite's events): collections in between find nothing, and cost a
third of a 1,000-rule compile and half of parsing a large test suite.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection inside (also as a decorator). Process-wide, so turned back on only if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
