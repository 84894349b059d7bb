"""Options shared by the verbs that read a node."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from multusctl.layout.model import DISTROS, ROLES

if TYPE_CHECKING:
    from multusctl.gather.nodefs import NodeFS
    from multusctl.layout.model import Layout


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


def detect_layout_from(root: str, distro: str | None, role: str | None, conf_dir: str | None,
                       bin_dirs: tuple[str, ...]) -> tuple[NodeFS, Layout]:
    from multusctl.gather.nodefs import NodeFS
    from multusctl.layout.detect import Overrides, detect_layout

    fs = NodeFS(root)
    layout = detect_layout(
        fs, Overrides(distro=distro, role=role, conf_dir=conf_dir, bin_dirs=list(bin_dirs) or None)
    )
    return fs, layout


def tolerant_stdout() -> None:
    """Print what the terminal's encoding cannot show (node file names, the report's dashes) as escapes,
    instead of dying with a UnicodeEncodeError traceback on a non-UTF-8 terminal."""
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
