"""The click command group: every verb, its help text and its usage errors."""

from __future__ import annotations

import click

from multusctl import __version__
from multusctl.cli.check import check_cmd
from multusctl.cli.detect import detect_cmd
from multusctl.cli.doctor import doctor_cmd
from multusctl.cli.explain import explain_cmd
from multusctl.cli.install import install_cmd, status_cmd, uninstall_cmd
from multusctl.cli.kubeconfig import kubeconfig_group
from multusctl.cli.nad import nad_group
from multusctl.cli.nad_test import test_cmd as _nad_test  # noqa: F401  (registers `nad test`)
from multusctl.cli.render import render_cmd


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
      multusctl doctor              test the live chain Multus needs and name the broken link
      multusctl explain "<error>"   the likely causes of a pasted error message, and the fixes
      multusctl kubeconfig create   a least-privilege, verified kubeconfig for Multus
      multusctl kubeconfig refresh  renew its token before it expires
      multusctl install             apply the rendered Multus (server-side apply) and wait for it
      multusctl status              Multus's DaemonSet, pods per node, NADs, version
      multusctl uninstall           remove what install manages and clean the nodes
      multusctl render --mode thick Multus manifests with this distro's paths (thin or thick)
      multusctl check --manifest F  what is wrong with Multus manifests for this node's layout
      multusctl check --list        every check id, what it means, its references
      multusctl nad validate F      check NADs (files, -n NS, -A) against this node's plugins
      multusctl nad test NAME|F     try a NAD for real in a throwaway network namespace

    Shell completion: eval "$(_MULTUSCTL_COMPLETE=bash_source multusctl)" (zsh_source, fish_source).
    """


cli.add_command(detect_cmd)
cli.add_command(check_cmd)
cli.add_command(doctor_cmd)
cli.add_command(explain_cmd)
cli.add_command(kubeconfig_group)
cli.add_command(install_cmd)
cli.add_command(status_cmd)
cli.add_command(uninstall_cmd)
cli.add_command(render_cmd)
cli.add_command(nad_group)
