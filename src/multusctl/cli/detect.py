"""`multusctl detect`: where things live on this node, and why we think so."""

from __future__ import annotations

import json
import sys

import click

from multusctl.cli.options import detect_layout_from, node_options


@click.command("detect")
@node_options
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
def detect_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None,
               bin_dirs: tuple[str, ...], output: str) -> None:
    """Say which distribution this node runs and where its CNI files live."""
    from multusctl.gather.snapshot import gather_node
    from multusctl.report.detect import detect_document, render_detect_text

    fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    snap = gather_node(fs, layout)
    doc = detect_document(snap, root)
    if output == "json":
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(render_detect_text(doc))
