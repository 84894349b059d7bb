"""Go-style durations (`24h`, `8760h`, `1h30m`, `600s`) as kubectl and Kubernetes docs write them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")  # ASCII digits only, as Go's time.ParseDuration
MAX_SECONDS = 100 * 365 * 86400  # a century: anything longer is a typo, and timedelta overflows past ~2.7e6 years
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

# TokenRequest refuses expirationSeconds below 10 minutes (FACTS.md §6).
MIN_TOKEN_SECONDS = 600

__all__ = ["MIN_TOKEN_SECONDS", "human", "parse", "seconds", "timestamp", "token_seconds"]


def timestamp(t: datetime) -> str:
    """config.credentials.timestamp: one time format for check, inspect and create. Imported when called:
    `nad test --timeout` parses a duration, and credentials' datetime and certs cost ~3 ms of its start-up."""
    from multusctl.config.credentials import timestamp as credentials_timestamp

    return credentials_timestamp(t)


def parse(text: str) -> int:
    """Whole seconds; ValueError with a one-line reason for anything else."""
    return int(seconds(text))


def seconds(text: str) -> float:
    """Seconds, sub-second parts kept (`500ms`, `1.5s`); ValueError with a one-line reason for anything else."""
    s = text.strip().lower()
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError(f"{text!r} is not a duration (use e.g. 24h, 8760h, 90m)")
    if total > MAX_SECONDS:
        raise ValueError(f"{text!r} is longer than a century (876000h)")
    return total


def human(seconds: float) -> str:
    s = round(seconds)
    if s >= 86400 and s % 3600 == 0:
        days, hours = divmod(s // 3600, 24)
        return f"{days}d" + (f"{hours}h" if hours else "")
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (sec, "s")) if v) or "0s"


def token_seconds(text: str) -> int:
    """The lifetime `--token-duration` asks for, in seconds; ValueError unless the API would issue it."""
    seconds = parse(text)
    if seconds < MIN_TOKEN_SECONDS:
        raise ValueError(f"{text} is shorter than 10m, the shortest token the API issues "
                         "(TokenRequest expirationSeconds >= 600)")
    return seconds
