"""How hard the property tests search.

Each property test states the example count of a thorough search (`max_examples=examples(400)`). A run
takes MULTUSCTL_FUZZ_SCALE times that count (default 0.25, never fewer than 25 examples), so README's test
command stays quick on a 2-core machine; `MULTUSCTL_FUZZ_SCALE=1` (or more) runs the thorough search, e.g.
before a release or nightly. Whatever the scale, Hypothesis first replays the failing examples it saved
(`.hypothesis/`), so a failure found once is tried again on the next run.
"""

from __future__ import annotations

import os

DEFAULT_SCALE = 0.25
MINIMUM = 25


def scale() -> float:
    raw = os.environ.get("MULTUSCTL_FUZZ_SCALE", "")
    try:
        value = float(raw) if raw else DEFAULT_SCALE
    except ValueError:
        raise SystemExit(f"MULTUSCTL_FUZZ_SCALE={raw!r}: not a number (e.g. 0.25 or 1)") from None
    if not value > 0:
        raise SystemExit(f"MULTUSCTL_FUZZ_SCALE={raw!r}: must be above 0")
    return value


def examples(thorough: int) -> int:
    """The example count for this run of a test whose thorough search takes `thorough` examples."""
    return max(MINIMUM, round(thorough * scale())) if thorough > MINIMUM else thorough
