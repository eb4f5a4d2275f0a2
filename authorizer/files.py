"""Files people name (on a command line, in a test suite, as the policy), read and written so that no
file can hang the command or exhaust it.

`open()` of a FIFO nobody writes to blocks forever, and a device such as /dev/zero never ends: files
are opened without blocking and read up to a bound (a pipe that has a writer, `<(command)`, is read
to its end). JSON nested deeper than the parser's stack is malformed JSON like any other, and a
write never waits for a FIFO nobody reads. Errors are OSError or ValueError with a one-line reason.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any, Literal

EVENT_LIMIT = 6 * 1024 * 1024  # Lambda's invocation payload limit: no authorizer event is larger
_ESCAPES = str.maketrans({c: repr(c)[1:-1] for c in map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029])})


def one_line(text: str) -> str:
    """`text` as one printable line, for messages that quote names people gave: control characters
    (newlines, terminal escapes) escaped, and the lone surrogates invalid UTF-8 in a name becomes as `\\udcff`."""
    return text.translate(_ESCAPES).encode("utf-8", "backslashreplace").decode("utf-8")


def kind_of(path: str | Path) -> Literal["file", "folder", "other", "missing"]:
    """What a path names (a regular file, a folder, anything else), never raising: a name the system
    cannot even look up (too long, say) names nothing."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "missing"
    return "file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode) else "other"


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The file's bytes; OSError when it cannot be read, is a folder, or holds more than `limit` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once; with no writer it reads as empty
    try:
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes")
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """JSON text (a UTF-8 BOM accepted, as some AWS samples carry one); ValueError when it is not
    UTF-8 or not JSON, or nests too deeply to read."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_json(path: str | Path, limit: int = EVENT_LIMIT) -> Any:
    """A JSON file (an event, by default bounded as Lambda bounds them); OSError or ValueError."""
    return parse_json(read_bytes(path, limit))


def write_bytes(path: str | Path, data: bytes) -> None:
    """Create or replace the file; OSError (never a wait) for a FIFO nobody reads, a folder, a full disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK, 0o666)
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
