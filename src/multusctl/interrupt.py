"""SIGTERM handled as Ctrl-C: the one way every command that makes something (a sandbox, check pods) gets
its `finally` run when a service manager, `timeout` or a CI runner stops it."""

from __future__ import annotations

import signal
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised where the program is so every `finally` runs; `signum` gives the exit status (128 +
    signum, as a shell reports a process killed by it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def to_interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def sigterm_as_interrupt() -> None:
    """From now on SIGTERM raises Interrupted (main thread only, as Python's signal handlers are)."""
    signal.signal(signal.SIGTERM, to_interrupt)


def exit_status(exc: BaseException | None) -> int:
    """130 for Ctrl-C, 128 + N for signal N."""
    return 128 + exc.signum if isinstance(exc, Interrupted) else 130
