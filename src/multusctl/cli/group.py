"""The click command group: every verb, its help text and its usage errors."""

from __future__ import annotations

import importlib

import click

from multusctl import __version__

# verb -> (module, attribute). A verb's module is imported only when that verb runs (or help lists them all):
# importing every verb's module made each command pay ~60 ms for the others (render, install, nad, ...).
VERBS: dict[str, tuple[str, str]] = {
    "detect": ("multusctl.cli.detect", "detect_cmd"),
    "check": ("multusctl.cli.check", "check_cmd"),
    "doctor": ("multusctl.cli.doctor", "doctor_cmd"),
    "explain": ("multusctl.cli.explain", "explain_cmd"),
    "kubeconfig": ("multusctl.cli.kubeconfig", "kubeconfig_group"),
    "install": ("multusctl.cli.install", "install_cmd"),
    "status": ("multusctl.cli.install", "status_cmd"),
    "uninstall": ("multusctl.cli.install", "uninstall_cmd"),
    "render": ("multusctl.cli.render", "render_cmd"),
    "nad": ("multusctl.cli.nad_test", "nad_group"),
    "bundle": ("multusctl.cli.bundle", "bundle_cmd"),  # nad_test adds `nad test` to the group of cli/nad.py
}


class _Group(click.Group):
    """The group, whose help names the program as it was called (`kubectl multus` as a kubectl plugin), and
    whose verbs load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = VERBS.get(cmd_name)
        if where is None:
            return None
        command: click.Command = getattr(importlib.import_module(where[0]), where[1])
        return command

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
      multusctl bundle              a support bundle for a ticket (secrets scrubbed)

    Shell completion: eval "$(_MULTUSCTL_COMPLETE=bash_source multusctl)" (zsh_source, fish_source).
    """
