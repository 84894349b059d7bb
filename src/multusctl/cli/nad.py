"""`multusctl nad validate|test`: NetworkAttachmentDefinitions checked statically, then tried for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from multusctl.cli.nad_run import cluster_nads, emit, fail

__all__ = ["FORMATS", "cluster_nads", "common", "emit", "fail", "nad_group"]

FORMATS = ("text", "json", "sarif", "junit")


def common(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--root", default="/", show_default=True, metavar="DIR",
                     type=click.Path(file_okay=False, exists=True),
                     help="The node whose plugins (bin dirs) and confDir the NADs are judged against."),
        click.option("--distro", default=None, help="Override the detected distribution (its bin dirs)."),
        click.option("--bin-dir", "bin_dirs", multiple=True, metavar="PATH",
                     help="CNI bin dir (node path; repeatable; default: the runtime's)."),
        click.option("--kubeconfig", default=None, metavar="ADMIN",
                     help="Read NADs from the cluster with this kubeconfig (default like kubectl)."),
        click.option("--context", default=None, help="The kubeconfig context."),
        click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Report format."),
        click.option("--color/--no-color", default=None, help="Colour the text report (default: only on a terminal)."),
        click.option("--verbose", "-v", is_flag=True, help="Text report: also say why each finding matters."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


@click.group("nad", short_help="Validate NetworkAttachmentDefinitions, and try them for real.")
def nad_group() -> None:
    """NetworkAttachmentDefinitions: `validate` checks their CNI config against this node; `test` runs the
    plugin chain in a throwaway network namespace (ADD, CHECK, DEL), leaving nothing behind."""


@nad_group.command("validate", short_help="Check NADs' CNI config, plugins, masters and IPAM ranges.")
@click.argument("files", nargs=-1, metavar="[FILE...]")
@click.option("--namespace", "-n", default=None, help="Read the NADs of this namespace from the cluster.")
@click.option("--all-namespaces", "-A", "all_ns", is_flag=True, help="Read every NAD of the cluster.")
@click.option("--cluster-cidr", multiple=True, metavar="CIDR", help="Pod CIDR(s) (default: detected on the node).")
@click.option("--service-cidr", multiple=True, metavar="CIDR", help="Service CIDR(s) (default: detected).")
@common
def validate_cmd(files: tuple[str, ...], namespace: str | None, all_ns: bool, cluster_cidr: tuple[str, ...],
                 service_cidr: tuple[str, ...], root: str, distro: str | None, bin_dirs: tuple[str, ...],
                 kubeconfig: str | None, context: str | None, output: str, color: bool | None,
                 verbose: bool) -> None:
    """Check NADs from FILEs (YAML/JSON, multi-document, `kind: List`; `-` reads stdin) or from the cluster
    (-n NS, -A): their CNI config (nad-config-invalid), plugin binaries in the bin dirs of --root
    (nad-plugin-missing), master interfaces of this node (nad-master-missing), IPAM ranges against the
    cluster/service CIDRs and each other (nad-ipam-overlap).

    Exit status: 0 no error findings, 1 at least one error, 2 bad usage or unreadable input.
    """
    from multusctl.nad import validate
    from multusctl.nad.source import NadInputError, read_files

    if files and (namespace or all_ns):
        raise click.UsageError("give FILEs or -n/-A, not both")
    if namespace and all_ns:
        raise click.UsageError("give -n NAMESPACE or -A, not both")
    secrets: set[str] = set()
    if files:
        try:
            nads, sources = read_files(list(files))
        except NadInputError as exc:
            fail(str(exc))
    elif namespace or all_ns:
        nads = cluster_nads(root, distro, kubeconfig, context, None if all_ns else namespace, secrets)
        sources = ["cluster"] * len(nads)
    else:
        raise click.UsageError("nothing to validate: give FILE... ('-' for stdin), -n NAMESPACE or -A")
    opts = validate.Options(root=root, distro=distro, bin_dirs=bin_dirs, cluster_cidrs=list(cluster_cidr),
                            service_cidrs=list(service_cidr))
    try:
        snap = validate.snapshot(nads, sources, opts)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cluster-cidr/--service-cidr") from None
    emit(validate.report(snap), output, color, verbose, secrets)
