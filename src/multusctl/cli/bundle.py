"""`multusctl bundle`: a support bundle to attach to a ticket (what `cilium sysdump` is for Cilium)."""

from __future__ import annotations

import errno
import os
import sys
from datetime import UTC
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from multusctl.bundle.model import Section


@click.command("bundle", short_help="Collect a support bundle (node, doctor, multus objects, logs), scrubbed.")
@click.option("--root", default=None, metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="The node to report on (default: /).")
@click.option("--all-nodes", is_flag=True, help="Report on every node (check --all-nodes) instead of --root.")
@click.option("--kubeconfig", "admin", default=None, metavar="ADMIN", type=click.Path(dir_okay=False, exists=True),
              help="Admin kubeconfig (default: $KUBECONFIG, the node's admin kubeconfig, ~/.kube/config).")
@click.option("--context", default=None, metavar="C", help="Context of the admin kubeconfig.")
@click.option("--namespace", "-n", default="kube-system", show_default=True, metavar="NS",
              help="Namespace of multus (for its ConfigMaps; the DaemonSets are found in every namespace).")
@click.option("--output", "-o", default=None, metavar="FILE.tar.gz",
              help="Where to write the bundle (`-` for stdout; default multusctl-bundle-<UTC time>.tar.gz here).")
def bundle_cmd(root: str | None, all_nodes: bool, admin: str | None, context: str | None, namespace: str,
               output: str | None) -> None:
    """Collect what a Multus support ticket needs into one .tar.gz: this node's `check` and `detect`
    (or every node's with --all-nodes), doctor's result, the multus DaemonSets, pods, ConfigMaps and log
    tails, every NAD, the pods stuck in ContainerCreating with their events, versions; and an index
    (INDEX.md, index.json) of what is where and what could not be collected, and why.

    \b
    Secret objects are never read. Every file is scrubbed: known credentials, JWTs and k3s join tokens
    become <redacted sha256:xxxxxxxx>, private keys <private key removed> (also base64-encoded).
    Without a reachable cluster the bundle still holds the node part, and the index says why.

    Exit status: 0 written (also with collection errors, which the index lists), 2 bad usage or the
    bundle cannot be written.
    """
    from datetime import datetime

    from multusctl.bundle.archive import ArchiveError, default_name, target_problem, write_atomic
    from multusctl.bundle.run import Options, build, stamp_of
    from multusctl.cli.admin import fail

    if all_nodes and root is not None:
        raise click.UsageError("give --root DIR or --all-nodes, not both")
    now = datetime.now(UTC)
    to_stdout = output == "-"
    path = None if to_stdout else (output or default_name(stamp_of(now)))
    if to_stdout and sys.stdout.isatty():
        fail(2, "bundle: refusing to write a gzip'd tarball to a terminal; give -o FILE or redirect stdout")
    if path is not None and (problem := target_problem(path)):
        fail(2, f"bundle: {problem}")  # said before minutes of collecting, not after
    progress = sys.stderr.isatty()

    def on_section(s: Section) -> None:
        if progress:
            files = len(s.members)
            why = s.skipped or (s.errors[0] if s.errors else "")
            sys.stderr.write(f"bundle: {s.name}: {s.status} ({files} file{'s' * (files != 1)})"
                             + (f": {why}" if why else "") + "\n")
            sys.stderr.flush()

    if all_nodes:  # SIGTERM as Ctrl-C, so a check run it starts removes what it made
        from multusctl.interrupt import sigterm_as_interrupt

        sigterm_as_interrupt()
    try:
        result = build(Options(root=root or "/", all_nodes=all_nodes, admin_kubeconfig=admin, context=context,
                               namespace=namespace), now, on_section)
    except KeyboardInterrupt as exc:  # nothing half-collected is written; a check run has removed its objects
        from multusctl.interrupt import exit_status

        sys.stderr.write("bundle: interrupted; nothing written\n")
        sys.exit(exit_status(exc))  # 130 for Ctrl-C, 143 for SIGTERM, as every other verb
    if path is None:
        sys.stdout.flush()
        progress = [0]
        try:
            out = getattr(sys.stdout, "buffer", None)
            if out is None:
                fail(2, "bundle: stdout takes no binary data")
            write_all(out, result.data, progress)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # not quiet, as other verbs are: a cut upload must not look whole
                sys.stderr.write(f"bundle: the reader of stdout went away after {progress[0]} of {len(result.data)} "
                                 "bytes; what it got is not a whole bundle\n")
                sys.exit(141)
            fail(2, f"bundle: cannot write to stdout: {(exc.strerror or str(exc)).lower()}")
        sys.stderr.write("bundle: written to stdout\n")
        return
    try:
        write_atomic(path, result.data)
    except ArchiveError as exc:
        fail(2, f"bundle: {exc}")
    click.echo(os.path.relpath(path) if not os.path.isabs(path) else path)


def write_all(out: Any, data: bytes, progress: list[int]) -> None:
    """All of `data` to `out`: a raw stream may take part of it (a pipe's buffer), so write until all is
    taken; a reader that goes away half-way is then an EPIPE, never a short bundle reported as written.
    `progress[0]`: the bytes taken so far."""
    view = memoryview(data)
    while progress[0] < len(view):
        n = out.write(view[progress[0]:])
        progress[0] += len(view) - progress[0] if n is None else n
    out.flush()
