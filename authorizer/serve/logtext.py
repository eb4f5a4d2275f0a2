"""Caller-controlled text in a log line (paths, routes, reasons naming an ARN): control and other
non-printable characters escaped, so that no request can write a log line of its own."""

from __future__ import annotations


def one_line(text: str) -> str:
    """`text` with every non-printable character but the space written as a Python escape (`\\n`)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
