"""What leaves the process: every line multusctl writes to stdout or stderr passes through here.

`install()` wraps both streams so that each line is redacted (`config.secrets.redact`: every secret any
parser met, in raw and escaped forms) and made safe for a terminal (`report.escape.safe_stream_text`:
control characters and lone surrogates escaped; our own colour codes kept). It is a last line of defence:
the formats and messages are built secret-free and escaped already, but a library's error text (an HTTP
header, a URL, a traceback) is not, and no code path can forget to call it.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any, TextIO

from multusctl.config.secrets import redact
from multusctl.report.escape import safe_stream_text


class OutputFailed(Exception):
    """stdout or stderr cannot be written (closed, full disk, broken pipe). Not an OSError on purpose: click
    turns an EPIPE OSError into exit status 1, which scripts read as "errors found"."""

    def __init__(self, name: str, exc: OSError) -> None:
        super().__init__(f"cannot write to {name}: {(exc.strerror or str(exc)).lower()}")
        self.broken_pipe = exc.errno == errno.EPIPE


class _Closed(io.TextIOBase):
    """What a stream that was closed when the process started (`>&-`) becomes: every write fails."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "the stream is closed")

    def isatty(self) -> bool:
        return False


class GuardedStream(io.TextIOBase):
    """A text stream that redacts and escapes whole lines before they reach `inner`."""

    def __init__(self, inner: TextIO | io.TextIOBase, name: str) -> None:
        super().__init__()
        self.inner = inner
        self.name_ = name
        self._pending = ""
        if hasattr(inner, "reconfigure"):
            # Print what the terminal's encoding cannot show (the report's dashes on a C locale) as escapes.
            inner.reconfigure(errors="backslashreplace")

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._put(lines + "\n")
        return len(text)

    def flush(self) -> None:
        text, self._pending = self._pending, ""
        self._put(text, flush=True)

    def _put(self, text: str, flush: bool = False) -> None:
        try:
            if text:
                self.inner.write(_clean(text))
            if flush:
                self.inner.flush()
        except OSError as exc:
            raise OutputFailed(self.name_, exc) from None

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "backslashreplace"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _clean(text: str) -> str:
    return safe_stream_text(redact(text))


def install() -> None:
    """Guard sys.stdout and sys.stderr (idempotent)."""
    if not isinstance(sys.stdout, GuardedStream):
        sys.stdout = GuardedStream(sys.stdout or _Closed(), "stdout")
    if not isinstance(sys.stderr, GuardedStream):
        sys.stderr = GuardedStream(sys.stderr or _Closed(), "stderr")


def finish(exc: OutputFailed) -> int:
    """After an output failure: the exit status, having said why on stderr when that still works.

    A reader that went away (`| head -1`) is no error of ours: exit quietly with 141 (128 + SIGPIPE, what a
    shell reports for a program killed by it), and keep the interpreter's last flush from complaining."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, GuardedStream):
            stream._pending = ""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
    if exc.broken_pipe:
        return 141
    try:
        sys.stderr.write(f"multusctl: {exc}\n")
        sys.stderr.flush()
    except OutputFailed:
        pass
    return 2
