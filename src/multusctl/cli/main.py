"""`multusctl` / `kubectl-multus` entry point."""

from __future__ import annotations

import sys

import click

from multusctl import __version__
from multusctl.cli import streams
from multusctl.cli.check import check_cmd
from multusctl.cli.detect import detect_cmd
from multusctl.cli.kubeconfig import kubeconfig_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="multusctl")
def cli() -> None:
    """Make Multus CNI work, and keep working, on k3s and every common Kubernetes distribution.

    \b
    Start here:
      multusctl detect            where CNI files live on this node
      multusctl check             what is wrong with this node's Multus setup (offline)
      multusctl kubeconfig create a least-privilege, verified kubeconfig for Multus
    """


cli.add_command(detect_cmd)
cli.add_command(check_cmd)
cli.add_command(kubeconfig_group)


def main() -> None:
    streams.install()
    code: int | str | None = 0
    try:
        try:
            cli(prog_name="kubectl multus" if sys.argv[0].endswith("kubectl-multus") else "multusctl")
        except SystemExit as exit_:
            code = exit_.code
        except KeyboardInterrupt:
            sys.stderr.write("multusctl: interrupted\n")
            code = 130
        sys.stdout.flush()  # here, not at interpreter exit, so that a full disk is reported
        sys.stderr.flush()
    except streams.OutputFailed as exc:
        code = streams.finish(exc)
    sys.exit(code)
