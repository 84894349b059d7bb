"""`multusctl detect`: where things live on this node, and why we think so."""

from __future__ import annotations

import click

from multusctl.cli.options import node_options
from multusctl.cli.run import run_detect

DETECT_FORMATS = ("text", "json")


@click.command("detect", short_help="Distribution, role and where this node's CNI files live, with evidence.")
@node_options
@click.option("--output", "-o", type=click.Choice(DETECT_FORMATS), default="text", show_default=True)
def detect_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None,
               bin_dirs: tuple[str, ...], output: str) -> None:
    """Say which distribution this node runs and where its CNI files live."""
    run_detect(root, distro, role, conf_dir, bin_dirs, output)
