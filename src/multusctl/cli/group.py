"""The click command group: every verb, its help text and its usage errors."""

from __future__ import annotations

import click

from multusctl import __version__
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
