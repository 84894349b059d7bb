"""The click command group: every verb, its help text and its usage errors."""

from __future__ import annotations

import click

from multusctl import __version__
from multusctl.cli.check import check_cmd
from multusctl.cli.detect import detect_cmd
from multusctl.cli.explain import explain_cmd
from multusctl.cli.kubeconfig import kubeconfig_group


class _Group(click.Group):
    """The group, whose help names the program as it was called (`kubectl multus` as a kubectl plugin)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        prog = ctx.find_root().info_name or "multusctl"
        saved = self.help
        self.help = (saved or "").replace("multusctl ", f"{prog} ")
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = saved


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="multusctl")
def cli() -> None:
    """Make Multus CNI work, and keep working, on k3s and every common Kubernetes distribution.

    \b
    Start here:
      multusctl detect              where CNI files live on this node
      multusctl check               what is wrong with this node's Multus setup (offline)
      multusctl kubeconfig create   a least-privilege, verified kubeconfig for Multus
      multusctl kubeconfig refresh  renew its token before it expires
      multusctl check --list        every check id, what it means, its references
      multusctl explain "<error>"   what a pasted Multus error means: causes, confirming check, fix

    Shell completion: eval "$(_MULTUSCTL_COMPLETE=bash_source multusctl)" (zsh_source, fish_source).
    """


cli.add_command(detect_cmd)
cli.add_command(check_cmd)
cli.add_command(kubeconfig_group)
cli.add_command(explain_cmd)
