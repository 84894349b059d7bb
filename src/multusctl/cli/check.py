"""`multusctl check`: offline analysis of a node's Multus setup."""

from __future__ import annotations

import sys

import click

from multusctl.cli.options import node_options, tolerant_stdout

FORMATS = ("text", "json", "sarif", "junit")
LIST_FORMATS = ("text", "json")


@click.command("check")
@node_options
@click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("--daemon-config", default=None, metavar="PATH",
              help="Node path of the thick plugin's daemon-config.json (default: looked up in multus.d/).")
@click.option("--skip", "skip", multiple=True, metavar="ID", help="Do not run this check (repeatable).")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: only on a terminal).")
@click.option("--list", "list_ids", is_flag=True,
              help="List the check catalog (every id, also those not built yet) as text or json; read no node.")
def check_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
              output: str, daemon_config: str | None, skip: tuple[str, ...], color: bool | None,
              list_ids: bool) -> None:
    """Find what is wrong with this node's Multus setup, without touching the cluster.

    Exit status: 0 no error findings, 1 at least one error, 2 bad usage or unreadable input.
    """
    if list_ids:
        if output not in LIST_FORMATS:
            raise click.UsageError(f"--list: --output must be one of {', '.join(LIST_FORMATS)}, not {output}")
        from multusctl.cli.catalog_list import render_list

        tolerant_stdout()
        sys.stdout.write(render_list(output))
        return
    from multusctl.analyze import UnknownCheck, analyze_snapshot, node_check_ids, node_snapshot
    from multusctl.layout.detect import Overrides
    from multusctl.report.formats import render

    try:
        node_check_ids(skip)  # a bad --skip is bad usage, said before the node is read
    except UnknownCheck as exc:
        raise click.UsageError(f"--skip: {exc}") from None
    overrides = Overrides(distro=distro, role=role, conf_dir=conf_dir, bin_dirs=list(bin_dirs) or None)
    snap = node_snapshot(root, overrides, daemon_config=daemon_config)
    report = analyze_snapshot(snap, root=root, skip=skip)
    for crash in report.crashed:
        # The exception text may quote the node's files: the stream guard redacts it like every line.
        click.echo(f"multusctl: internal error in check {crash} (please report this)", err=True)
    use_color = sys.stdout.isatty() if color is None else color
    tolerant_stdout()
    sys.stdout.write(render(report, output, color=use_color, secrets=snap.secrets))
    sys.exit(2 if report.crashed and not report.findings else report.exit_code())
