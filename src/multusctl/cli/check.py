"""`multusctl check`: offline analysis of a node's Multus setup."""

from __future__ import annotations

from typing import Any

import click

from multusctl.cli import check_all
from multusctl.cli.options import node_options
from multusctl.cli.run import UsageProblem, run_check

FORMATS = ("text", "json", "sarif", "junit")
LIST_FORMATS = ("text", "json")


@click.command("check", short_help="What is wrong with this node's Multus setup (offline); --list: the catalog.")
@node_options
@click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("--daemon-config", default=None, metavar="PATH",
              help="Node path of the thick plugin's daemon-config.json (default: looked up in multus.d/).")
@click.option("--skip", "skip", multiple=True, metavar="ID", help="Do not run this check (repeatable).")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: only on a terminal).")
@click.option("--verbose", "-v", is_flag=True, help="Text report: also say why each finding matters.")
@click.option("--manifest", "manifests", multiple=True, metavar="FILE",
              help="Check Multus manifests (YAML, multi-document or List; - for stdin; repeatable) against the "
                   "layout of --root or --distro, instead of the node.")
@click.option("--list", "list_ids", is_flag=True,
              help="List the check catalog (every id, also those not built yet) as text or json; read no node.")
@check_all.options
def check_cmd(root: str, distro: str | None, role: str | None, conf_dir: str | None, bin_dirs: tuple[str, ...],
              output: str, daemon_config: str | None, skip: tuple[str, ...], color: bool | None,
              verbose: bool, list_ids: bool, manifests: tuple[str, ...], all_nodes: bool, **fleet: Any) -> None:
    """Find what is wrong with this node's Multus setup, without touching the cluster.

    Exit status: 0 no error findings, 1 at least one error, 2 bad usage or unreadable input.
    """
    if list_ids:
        if output not in LIST_FORMATS:
            raise click.UsageError(f"--list: --output must be one of {', '.join(LIST_FORMATS)}, not {output}")
        import sys

        from multusctl.cli.catalog_list import render_list

        sys.stdout.write(render_list(output))
        return
    if all_nodes:
        if manifests or skip or daemon_config or verbose:
            raise click.UsageError("--all-nodes takes none of --manifest, --skip, --daemon-config, --verbose")
        from multusctl.cli.options import seconds

        timeout = seconds(fleet.pop("timeout_text"), "'--timeout'", low=1.0, high=3600.0)
        check_all.run_all_nodes(root=root, output=output, color=color, timeout=timeout, **fleet)
    else:
        ctx = click.get_current_context()
        given = [k for k in fleet if ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT]
        if given:
            opt = next(p.opts[0] for p in ctx.command.params if p.name == given[0])
            raise click.UsageError(f"{opt} needs --all-nodes")
    try:
        if manifests:
            from multusctl.cli.run import run_check_manifests

            run_check_manifests(manifests, root, distro, role, conf_dir, bin_dirs, output, skip, color, verbose)
        run_check(root, distro, role, conf_dir, bin_dirs, output, daemon_config, skip, color, verbose)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
