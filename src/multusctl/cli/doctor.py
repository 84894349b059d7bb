"""`multusctl doctor`: the live chain from where Multus runs, and the broken link named."""

from __future__ import annotations

import sys

import click

FORMATS = ("text", "json", "sarif", "junit")


@click.command("doctor", short_help="Test the live chain Multus needs (DNS, TCP, TLS, auth, RBAC, NADs, DaemonSet).")
@click.option("--root", default="/", show_default=True, metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="The node to check (a copy of a node's files works for the offline part).")
@click.option("--kubeconfig", "admin", default=None, metavar="ADMIN",
              help="An admin kubeconfig for the cluster-wide reads (multus DaemonSet, pods, logs, thick identity).")
@click.option("--multus-kubeconfig", default=None, metavar="FILE",
              help="The kubeconfig to test as Multus (default: the one the node's multus config names).")
@click.option("--timeout", default="2s", show_default=True, metavar="DURATION",
              help="Deadline of each network step (DNS, connect, handshake, each request).")
@click.option("--from-netns", default=None, metavar="NAME",
              help="Run the network steps inside this network namespace (what a pod would see).")
@click.option("--output", "-o", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format.")
@click.option("--color/--no-color", default=None, help="Colour the text report (default: only on a terminal).")
@click.option("--verbose", "-v", is_flag=True, help="Text report: also say why each finding matters.")
def doctor_cmd(root: str, admin: str | None, multus_kubeconfig: str | None, timeout: str, from_netns: str | None,
               output: str, color: bool | None, verbose: bool) -> None:
    """Test, link by link, what a pod ADD needs from the cluster, with the credentials Multus itself uses,
    and name the link that breaks (what Multus reports as `context deadline exceeded`).

    \b
    Runs the offline node checks (as `multusctl check`), then: DNS -> TCP -> TLS (CA, name) ->
    authentication -> each permission multus needs -> latency -> NAD CRD; beside it, with --kubeconfig:
    the multus DaemonSet, its pods and their logs (matched against `multusctl explain`), the thick
    daemon's ServiceAccount, the NADs. A broken link skips what depends on it, saying why.

    Exit status: 0 no error findings, 1 at least one error, 2 bad usage or unreadable input.
    """
    from multusctl.analyze import node_snapshot
    from multusctl.cli.options import seconds as duration_option
    from multusctl.doctor.run import DoctorProblem, Options, run
    from multusctl.report.formats import render
    from multusctl.report.steps import step_line

    seconds = duration_option(timeout, "--timeout", low=0.05, high=300)
    snap = node_snapshot(root)
    node = snap if snap.layout.node_found else None
    if node is None and not multus_kubeconfig and not admin:
        raise click.UsageError(f"no Kubernetes node under {root} and nothing else to test: give "
                               "--multus-kubeconfig FILE and/or --kubeconfig ADMIN, or --root a node's files")
    progress = output == "text" and sys.stderr.isatty()
    use_color = sys.stdout.isatty() if color is None else color

    def on_step(step: object) -> None:
        if progress:
            sys.stderr.write(step_line(step.to_dict(), use_color) + "\n")  # type: ignore[attr-defined]
            sys.stderr.flush()

    try:
        report, secrets = run(Options(root=root, multus_kubeconfig=multus_kubeconfig, admin_kubeconfig=admin,
                                      timeout=seconds, from_netns=from_netns), node, on_step)
    except DoctorProblem as exc:
        sys.stderr.write(f"multusctl doctor: {exc}\n")
        sys.exit(2)
    for crash in report.crashed:
        sys.stderr.write(f"multusctl: internal error in check {crash} (please report this)\n")
    if progress:
        sys.stderr.write("\n")
    sys.stdout.write(render(report, output, color=use_color, secrets=secrets, verbose=verbose))
    sys.exit(report.exit_code())
