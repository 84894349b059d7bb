"""Options shared by the verbs that read a node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from multusctl.cli.run import detect_layout_from
from multusctl.layout.model import DISTROS, ROLES

__all__ = ["detect_layout_from", "node_options", "seconds"]


_EXAMPLES = (("500ms", 0.5), ("10s", 10.0), ("1m30s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("24h", 86400.0))


def seconds(text: str, hint: str, low: float = 0.0, high: float | None = None) -> float:
    """A Go-style duration option (`2s`, `500ms`, `1m30s`) in seconds, or click's one-line usage error."""
    from multusctl.provision import duration

    try:
        value = duration.seconds(text)
    except ValueError as exc:
        if "not a duration" not in str(exc):
            raise click.BadParameter(str(exc), param_hint=hint) from None
        # Examples this option takes (provision/duration's are token lifetimes, 24h and up).
        fits = [e for e, v in _EXAMPLES if v >= low and (high is None or v <= high)][:3] or [duration.human(low)]
        raise click.BadParameter(f"{text!r} is not a duration (use e.g. {', '.join(fits)})", param_hint=hint) from None
    if value < low or (high is not None and value > high):
        bounds = f"{duration.human(low) if low >= 1 else f'{low * 1000:g}ms'}..{duration.human(high or 0)}"
        raise click.BadParameter(f"{text!r} is outside {bounds}", param_hint=hint)
    return value


def node_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--root", default="/", show_default=True, metavar="DIR",
                     type=click.Path(file_okay=False, exists=True),
                     help="Read the node from DIR (a copy of a node's files); "
                          "paths are reported as the node sees them."),
        click.option("--distro", type=click.Choice(DISTROS), default=None, help="Override the detected distribution."),
        click.option("--role", type=click.Choice(ROLES), default=None, help="Override the detected node role."),
        click.option("--conf-dir", default=None, metavar="PATH",
                     help="Override the runtime's CNI conf dir (node path)."),
        click.option("--bin-dir", "bin_dirs", multiple=True, metavar="PATH",
                     help="Override the runtime's CNI bin dir (node path; repeatable)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn
