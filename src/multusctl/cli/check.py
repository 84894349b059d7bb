"""`multusctl check`: offline analysis of a node's Multus setup."""

from __future__ import annotations

import sys

import click

from multusctl.cli.options import detect_layout_from, node_options, tolerant_stdout

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
    from multusctl import __version__
    from multusctl.checks import node_checks
    from multusctl.checks.registry import run_checks
    from multusctl.config.secrets import redact
    from multusctl.gather.snapshot import gather_node
    from multusctl.report.finding import Report, Target
    from multusctl.report.formats import render

    ids = [c.id for c in node_checks()]
    unknown = sorted(set(skip) - set(ids))
    if unknown:
        raise click.UsageError(f"--skip: unknown check id {', '.join(unknown)} (see CHECKS.md)")

    fs, layout = detect_layout_from(root, distro, role, conf_dir, bin_dirs)
    snap = gather_node(fs, layout, daemon_config=daemon_config)
    run = run_checks(snap, "node", only=[i for i in ids if i not in skip])
    for crash in run.crashed:
        # The exception text may quote the node's files: never let it carry a token out.
        click.echo(redact(f"multusctl: internal error in check {crash} (please report this)", snap.secrets),
                   err=True)
    report = Report(
        target=Target(kind="node", root=root, distro=layout.distro, role=layout.role, mode=snap.mode),
        findings=run.findings,
        checks_run=run.ran,
        tool_version=__version__,
        checks={c.id: c.entry for c in node_checks() if c.id in run.ran},
    )
    use_color = sys.stdout.isatty() if color is None else color
    tolerant_stdout()
    sys.stdout.write(render(report, output, color=use_color, secrets=snap.secrets))
    sys.exit(2 if run.crashed and not run.findings else report.exit_code())
