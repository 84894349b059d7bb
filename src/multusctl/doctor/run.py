"""`multusctl doctor`, free of click: the offline node checks, then the live chain beside the admin reads,
then the cluster checks over what they saw; one Report."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from multusctl import __version__
from multusctl.doctor import admin as admin_reads
from multusctl.doctor import chain
from multusctl.doctor.endpoint import Endpoint, EndpointError, load
from multusctl.doctor.probe import ClusterProbe, Step
from multusctl.doctor.wire import Session, ms_since
from multusctl.gather.snapshot import NodeSnapshot
from multusctl.report.finding import Report, Target

CHAIN_STEPS = ("dns", "tcp", "tls", "auth", "rbac", "latency", "nad-crd")


class DoctorProblem(Exception):
    """Bad usage or input found before anything was probed: one line, exit 2."""


@dataclass
class Options:
    root: str = "/"
    multus_kubeconfig: str | None = None
    admin_kubeconfig: str | None = None
    timeout: float = 2.0
    from_netns: str | None = None


def _endpoint(path: str, shown: str, root: str, what: str) -> Endpoint:
    try:
        return load(path, shown, root)
    except EndpointError as exc:
        raise DoctorProblem(f"{what}: {exc}") from None


def _multus_endpoint(opts: Options, snap: NodeSnapshot | None, probe: ClusterProbe) -> Endpoint | None:
    """The credentials Multus itself uses: --multus-kubeconfig, else the file the node's multus config names."""
    step = probe.step("kubeconfig")
    start = time.monotonic()
    try:
        if opts.multus_kubeconfig:
            probe.multus_kubeconfig = opts.multus_kubeconfig
            ep = _endpoint(opts.multus_kubeconfig, opts.multus_kubeconfig, "/", "--multus-kubeconfig")
        elif snap is not None and snap.mode == "thick":
            step.detail = ("skipped: thick mode; the daemon uses its pod's ServiceAccount (checked with "
                           "--kubeconfig), not daemon-config's kubeconfig")
            return None
        elif snap is not None and snap.kubeconfig is not None:
            kf = snap.kubeconfig
            probe.multus_kubeconfig = kf.path
            if kf.config is None:
                step.status, step.detail = "failed", f"{kf.path}: {kf.error or 'unusable'} (see the node findings)"
                return None
            try:
                ep = load(snap.fs.host(kf.path), kf.path, snap.fs.root)
            except EndpointError as exc:
                step.status, step.detail = "failed", f"{exc} (see the node findings)"
                return None
        else:
            step.detail = "skipped: no multus config on this node names a kubeconfig (give --multus-kubeconfig)"
            return None
    finally:
        step.duration_ms = ms_since(start)
    step.status, step.detail = "ok", f"{ep.path} -> {ep.server}"
    return ep


def _daemon_socket(probe: ClusterProbe, snap: NodeSnapshot | None, timeout: float) -> None:
    """Thick: can the shim reach the daemon? A connect to the live socket on this node."""
    step = probe.step("daemon-socket")
    m = snap.multus if snap is not None else None
    if snap is None or m is None or m.multus is None or m.multus.mode != "thick":
        step.detail = "skipped: not thick mode"
        return
    probe.socket_path = os.path.join(m.multus.socket_dir, "multus.sock")
    host = os.path.join(snap.fs.root, probe.socket_path.lstrip("/"))
    start = time.monotonic()
    try:
        if not stat.S_ISSOCK(os.stat(host).st_mode):
            step.detail = "skipped: not a live socket (a copied node root?); thick-socket-missing covers a missing one"
            return
    except OSError:
        step.detail = "skipped: no socket (the node check thick-socket-missing reports it)"
        return
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    # A unix socket address holds 107 bytes; a node root copied somewhere deep needs the directory's fd.
    dir_fd = os.open(os.path.dirname(host), os.O_PATH | os.O_CLOEXEC) if len(host) > 100 else None
    try:
        sock.connect(host if dir_fd is None else f"/proc/self/fd/{dir_fd}/{os.path.basename(host)}")
        step.status, step.detail = "ok", f"{probe.socket_path} accepts connections"
    except TimeoutError:
        step.status, step.detail = "failed", f"connecting did not finish within {timeout:g} s"
        step.facts["kind"] = "timeout"
    except OSError as exc:
        step.status, step.detail = "failed", f"connect: {(exc.strerror or str(exc)).lower()}"
        step.facts["kind"] = "refused"
    finally:
        sock.close()
        if dir_fd is not None:
            os.close(dir_fd)
        step.duration_ms = ms_since(start)


def run(opts: Options, snap: NodeSnapshot | None, on_step: Callable[[Step], None]) -> tuple[Report, set[str]]:
    """Probe, then judge. `snap` is the node (None when --root is no node); `on_step` sees each step as it
    finishes (the progress lines). The report, and the secrets it must not show."""
    probe = gather(opts, snap, on_step)
    return judge(probe, snap, opts.root), probe.secrets | (snap.secrets if snap is not None else set())


def gather(opts: Options, snap: NodeSnapshot | None, on_step: Callable[[Step], None]) -> ClusterProbe:
    """Every step doctor runs: the multus identity's chain in a thread (in --from-netns when given), the
    daemon socket and the admin reads beside it, then the NADs with whichever identity may read them."""
    probe = ClusterProbe(mode=snap.mode if snap is not None else "unknown")
    if opts.from_netns:
        from multusctl.doctor.netns import check as netns_problem

        if problem := netns_problem(opts.from_netns):
            raise DoctorProblem(problem)
    admin_ep = _endpoint(opts.admin_kubeconfig, opts.admin_kubeconfig, "/", "--kubeconfig") \
        if opts.admin_kubeconfig else None
    ep = _multus_endpoint(opts, snap, probe)
    probe.endpoint = ep
    probe.secrets |= (ep.secrets if ep else set()) | (admin_ep.secrets if admin_ep else set())
    lock = threading.Lock()

    def report(step: Step) -> None:
        with lock:
            on_step(step)

    report(probe.step("kubeconfig"))
    sessions: list[Session | None] = []
    netns_error: list[str] = []

    def live_chain() -> None:
        assert ep is not None
        from multusctl.doctor.netns import NetnsError, entered

        try:
            with entered(opts.from_netns):
                sessions.append(chain.run(probe, opts.timeout, report))
        except NetnsError as exc:
            netns_error.append(str(exc))

    worker = None
    if ep is not None:
        worker = threading.Thread(target=live_chain, daemon=True)
        worker.start()
    else:
        chain.skip_rest(probe, CHAIN_STEPS, "skipped: no multus kubeconfig to test")
        for name in CHAIN_STEPS:
            report(probe.step(name))
    _daemon_socket(probe, snap, opts.timeout)
    report(probe.step("daemon-socket"))
    admin_reads.read(probe, admin_ep, opts.timeout, report)
    if worker is not None:
        worker.join()
    if netns_error:
        raise DoctorProblem(f"--from-netns: {netns_error[0]}")
    session = sessions[0] if sessions else None
    nads = probe.step("nads")
    if nads.status == "skipped" and not nads.detail:
        if session is not None and probe.nad_crd:
            admin_reads.list_nads(probe, session)  # what multus's own identity may read
        else:
            nads.detail = "skipped: give --kubeconfig ADMIN (or a multus kubeconfig that works)"
    report(nads)
    if session is not None:
        session.close()
    return probe


def judge(probe: ClusterProbe, snap: NodeSnapshot | None, root: str) -> Report:
    """The node checks of `snap` and the cluster and NAD checks of `probe`, as one report with the steps."""
    from multusctl.analyze import analyze_snapshot
    from multusctl.checks import cluster_checks
    from multusctl.checks.registry import impact_order, run_checks
    from multusctl.doctor.versions import settle

    node = analyze_snapshot(snap, root=root) if snap is not None else None
    checks = cluster_checks()
    runs = [run_checks(probe, area, only=[c.id for c in checks if c.area == area]) for area in ("cluster", "nad")]
    layout = snap.layout if snap is not None else None
    findings = settle(node.findings if node else [], probe.daemonsets) + [f for r in runs for f in r.findings]
    findings.sort(key=impact_order())
    return Report(
        target=Target(kind="cluster", root=root, distro=layout.distro if layout else "unknown",
                      role=layout.role if layout else "unknown", mode=probe.mode),
        findings=findings,
        checks_run=(node.checks_run if node else []) + [i for r in runs for i in r.ran],
        tool_version=__version__,
        crashed=(node.crashed if node else []) + [c for r in runs for c in r.crashed],
        checks={**(node.checks if node else {}), **{c.id: c.entry for c in checks}},
        steps=[s.to_dict() for s in probe.ordered_steps()],
    )
