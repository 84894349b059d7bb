"""The kubelet of the simulated nodes: runs the pods bound to them as processes of this machine.

One thread serves every node: it waits (``selectors``) on a pidfd per running container, a wake-up pipe
for store events, and a timer heap (slow starts, restart back-off, image pull back-off, grace periods); a
pod costs its processes and nothing else. A container is started as described in
``multusctl.testing.podspec`` (private mount namespace, overlay root, volumes bound from the node's root,
stdout and stderr to a log file, its own session so that every process it forks is killed with it).

Lifecycle, as the kubelet 1.31 reports it: Pending with ContainerCreating (PodInitializing with init
containers; ``slow=S`` delays the start by S seconds), init containers one after the other, then every
container Running (ready at once: probes are not run); on exit Completed/Error/StartError with the exit
code (128+N for a signal), restarted per restartPolicy (Always, OnFailure: CrashLoopBackOff with a doubling
back-off from ``TestCluster.restart_backoff`` up to 300 s; Never: the pod ends Succeeded or Failed).
``nopull`` nodes and images in ``TestCluster.unpullable_images`` end in ErrImagePull, then ImagePullBackOff;
pods of ``notready`` nodes are never touched (they stay Pending, and Terminating once deleted). Deletion:
SIGTERM to every process of the pod, SIGKILL after the grace period, then the object is removed. Events
(Pulled, Created, Started, Killing, Failed, BackOff, FailedMount) are recorded as core/v1 Events.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import selectors
import shutil
import signal
import subprocess
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multusctl.testing import podspec
from multusctl.testing.podlogs import LogBook, Run
from multusctl.testing.podstatus import ContainerState, PodState, pod_status
from multusctl.testing.store import ApiError, Obj, WatchEvent, now_rfc3339
from multusctl.testing.volumes import pod_volume

if TYPE_CHECKING:
    from multusctl.testing.nodes import SimNode
    from multusctl.testing.server import TestCluster

MAX_BACKOFF = 300.0
READ_ONLY_KINDS = ("configMap", "secret", "projected", "downwardAPI")


@dataclass
class _Proc:
    proc: subprocess.Popen[bytes]
    pidfd: int
    run: Run
    errfile: Path


@dataclass
class _Pod:
    key: tuple[str, str]
    uid: str
    node: SimNode
    spec: Obj
    state: PodState
    staging: Path
    procs: dict[str, _Proc] = field(default_factory=dict)
    volumes: dict[str, tuple[Path, str]] = field(default_factory=dict)
    gen: int = 0
    terminating: bool = False
    forgotten: bool = False
    kill_at: float = 0.0

    def cspec(self, c: ContainerState) -> Obj:
        group = "initContainers" if c.init else "containers"
        return next(x for x in self.spec.get(group) or [] if x.get("name") == c.name)


class Kubelet:
    def __init__(self, cluster: TestCluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.logbook = LogBook()
        self.workdir = Path()
        self._inbox: deque[Any] = deque()
        self._pods: dict[tuple[str, str], _Pod] = {}
        self._timers: list[tuple[float, int, _Pod | None, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._ips = itertools.count(2)
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None
        self._sel: selectors.BaseSelector | None = None

    # ---- lifecycle and inbox (any thread) ----

    def start(self, workdir: Path) -> None:
        self.workdir = workdir
        for sub in ("logs", "pods", "mnt"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._wake = (r, w)
        self._sel = selectors.DefaultSelector()
        self._sel.register(r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name="testcluster-kubelet", daemon=True)
        self._thread.start()
        self._post("resync")

    def stop(self) -> None:
        if self._thread is None:
            return
        self._post("stop")
        self._thread.join(timeout=30)
        self._thread = None
        assert self._wake is not None and self._sel is not None
        self._sel.close()
        for fd in self._wake:
            os.close(fd)
        self._wake = None

    def observe(self, ev: WatchEvent) -> None:
        if self._thread is not None and (ev.group, ev.plural) in (("", "pods"), ("", "nodes")):
            self._post(ev)

    def _post(self, item: Any) -> None:
        self._inbox.append(item)
        if self._wake is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._wake[1], b"x")

    # ---- the loop (kubelet thread only from here on) ----

    def _loop(self) -> None:
        assert self._sel is not None and self._wake is not None
        while True:
            timeout = max(0.0, self._timers[0][0] - _now()) if self._timers else None
            for key, _ in self._sel.select(timeout):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self._wake[0], 4096):
                            pass
                else:
                    self._exited(*key.data)
            while self._inbox:
                item = self._inbox.popleft()
                if item == "stop":
                    self._shutdown()
                    return
                self._guard(self._handle, item)
            while self._timers and self._timers[0][0] <= _now():
                _, _, pod, gen, fn = heapq.heappop(self._timers)
                if pod is None or (pod.gen == gen and not pod.forgotten):
                    self._guard(fn)

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a bug or a race must not stop every node's kubelet
            import traceback
            traceback.print_exception(exc)

    def _after(self, delay: float, pod: _Pod | None, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (_now() + delay, next(self._seq), pod, pod.gen if pod else 0, fn))

    def _handle(self, item: Any) -> None:
        if item == "resync":
            for pod in self.store.peek_list("", "pods"):
                self._sync(pod)
            return
        ev: WatchEvent = item
        if ev.plural == "nodes":
            if ev.type != "DELETED":
                for pod in self.store.peek_list("", "pods"):
                    if (pod.get("spec") or {}).get("nodeName") == ev.obj["metadata"]["name"]:
                        self._sync(pod)
            return
        key = (ev.namespace, ev.obj["metadata"]["name"])
        if ev.type == "DELETED":
            p = self._pods.get(key)
            if p is not None and p.uid == ev.obj["metadata"].get("uid"):
                self._kill(p, signal.SIGKILL)
                self._forget(p)
            return
        live = self.store.peek_list("", "pods", ev.namespace)
        current = next((o for o in live if o["metadata"]["name"] == key[1]), None)
        if current is not None:
            self._sync(current)

    def _sync(self, pod: Obj) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        sim = self.cluster.simulated_nodes.get(spec.get("nodeName") or "")
        if sim is None or sim.notready:
            return
        key = (meta.get("namespace", ""), meta["name"])
        p = self._pods.get(key)
        if p is not None and p.uid != meta.get("uid"):
            self._kill(p, signal.SIGKILL)
            self._forget(p)
            p = None
        if p is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            p = self._admit(pod, sim)
        if meta.get("deletionTimestamp"):
            self._terminate(p, float(meta.get("deletionGracePeriodSeconds") or 0))

    # ---- starting ----

    def _admit(self, pod: Obj, sim: SimNode) -> _Pod:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        ns, name = meta.get("namespace", ""), meta["name"]
        init = [ContainerState(c["name"], c.get("image", ""), init=True, reason="PodInitializing")
                for c in spec.get("initContainers") or []]
        main = [ContainerState(c["name"], c.get("image", ""), reason="PodInitializing" if init
                               else "ContainerCreating") for c in spec.get("containers") or []]
        node_obj = self.store.get("", "nodes", None, sim.name) or {}
        host_ip = next((a["address"] for a in (node_obj.get("status") or {}).get("addresses") or []
                        if a.get("type") == "InternalIP"), "10.0.0.1")
        cidr = ((node_obj.get("spec") or {}).get("podCIDR") or "10.42.0.0/24").split("/")[0].rsplit(".", 1)[0]
        pod_ip = host_ip if spec.get("hostNetwork") else f"{cidr}.{next(self._ips) % 250 + 2}"
        state = PodState(ns, name, meta.get("uid", ""), sim.name, spec.get("restartPolicy") or "Always",
                         init, main, host_ip=host_ip, pod_ip=pod_ip)
        p = _Pod((ns, name), meta.get("uid", ""), sim, spec, state, self.workdir / "pods" / meta.get("uid", name))
        self._pods[p.key] = p
        for c in state.containers():
            self.logbook.set_waiting(ns, name, c.name, c.reason)
        unpullable = self.cluster.unpullable_images
        first = init[:1] or main
        if sim.nopull or any(c.image in unpullable for c in first):
            for c in first:
                self._pull_failed(p, c)
        elif not meta.get("deletionTimestamp"):
            self._write(p)
            self._after(sim.slow, p, lambda: self._start_next(p))
        return p

    def _pull_failed(self, p: _Pod, c: ContainerState) -> None:
        image = c.image or "<none>"
        c.reason = "ErrImagePull"
        c.message = (f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": '
                     "failed to do request: dial tcp: lookup registry: no such host")
        self.logbook.set_waiting(*p.key, c.name, "trying and failing to pull image")
        self._event(p, "Pulling", f'Pulling image "{image}"', c)
        self._event(p, "Failed", f"Failed to pull image \"{image}\": {c.message}", c, "Warning")
        self._event(p, "Failed", "Error: ErrImagePull", c, "Warning")
        self._write(p)

        def backoff() -> None:
            c.reason, c.message = "ImagePullBackOff", f'Back-off pulling image "{image}"'
            self._event(p, "BackOff", c.message, c)
            self._event(p, "Failed", "Error: ImagePullBackOff", c, "Warning")
            self._write(p)
        self._after(self.cluster.pull_backoff, p, backoff)

    def _prepare_volumes(self, p: _Pod) -> bool:
        if p.volumes:
            return True
        try:
            for vol in p.spec.get("volumes") or []:
                p.volumes[vol["name"]] = pod_volume(self.cluster, p.key, p.spec, p.node.root, p.staging,
                                                    p.state.host_ip, vol)
        except podspec.VolumeError as exc:
            p.volumes.clear()
            name = vol.get("name", "")
            self._event(p, "FailedMount", f'MountVolume.SetUp failed for volume "{name}" : {exc}', None, "Warning")
            self._after(2.0, p, lambda: self._start_next(p))
            return False
        return True

    def _start_next(self, p: _Pod) -> None:
        if p.terminating or not self._prepare_volumes(p):
            return
        pending_init = [c for c in p.state.init if not (c.state == "terminated" and c.exit_code == 0)]
        if pending_init:
            if pending_init[0].state == "waiting" and pending_init[0].name not in p.procs:
                self._spawn(p, pending_init[0])
        else:
            for c in p.state.main:
                if c.state == "waiting" and c.name not in p.procs and not c.last:
                    self._spawn(p, c)
        self._write(p)

    def _spawn(self, p: _Pod, c: ContainerState) -> None:
        ns, name = p.key
        cspec = p.cspec(c)
        pod = self.store.get("", "pods", ns, name) or {"metadata": {"name": name, "namespace": ns}, "spec": p.spec}
        env = podspec.container_env(pod, cspec, lambda plural, n, o: self.store.get("", plural, n, o),
                                    p.state.host_ip, self.cluster.api_port)
        argv = podspec.command_line(cspec, env)
        mounts: list[tuple[Path, str, bool]] = []
        for vm in cspec.get("volumeMounts") or []:
            src, kind = p.volumes.get(vm.get("name", ""), (None, ""))
            if src is None:
                continue
            if vm.get("subPath"):
                src = src / vm["subPath"]
            mounts.append((src, vm.get("mountPath", "/"), bool(vm.get("readOnly")) or kind in READ_ONLY_KINDS))
        logdir = self.workdir / "logs" / f"{ns}_{name}_{p.uid[:8]}" / c.name
        logdir.mkdir(parents=True, exist_ok=True)
        log, errfile = logdir / f"{c.restart_count}.log", logdir / f"{c.restart_count}.err"
        errfile.write_bytes(b"")
        sc = {**(p.spec.get("securityContext") or {}), **(cspec.get("securityContext") or {})}
        script = podspec.start_script(self.workdir / "mnt", errfile, mounts, env, argv,
                                      str(cspec.get("workingDir") or "/"), (sc.get("runAsUser"), sc.get("runAsGroup")))
        with log.open("ab") as out:
            proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True,
                                    env={"PATH": podspec.DEFAULT_PATH, "LANG": "C"})
        pidfd = os.pidfd_open(proc.pid)
        run = self.logbook.add_run(ns, name, c.name, log)
        p.procs[c.name] = _Proc(proc, pidfd, run, errfile)
        assert self._sel is not None
        self._sel.register(pidfd, selectors.EVENT_READ, (p, c.name))
        if c.restart_count == 0 and not c.last:
            self._event(p, "Pulled", f'Container image "{c.image}" already present on machine', c)
        c.state, c.reason, c.message = "running", "", ""
        c.started_at, c.container_id = now_rfc3339(), f"containerd://{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self._event(p, "Created", f"Created container {c.name}", c)
        self._event(p, "Started", f"Started container {c.name}", c)

    # ---- exits, restarts, termination ----

    def _exited(self, p: _Pod, name: str) -> None:
        proc = p.procs.pop(name)
        assert self._sel is not None
        self._sel.unregister(proc.pidfd)
        os.close(proc.pidfd)
        rc = proc.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.proc.pid, signal.SIGKILL)  # what it left behind dies with the container
        proc.run.done.set()
        if p.forgotten:
            return
        c = next(x for x in p.state.containers() if x.name == name)
        err = proc.errfile.read_text(errors="replace").strip() if proc.errfile.exists() else ""
        c.state, c.finished_at = "terminated", now_rfc3339()
        c.exit_code = 128 if err else (rc if rc >= 0 else 128 - rc)
        c.reason, c.message = ("StartError", err) if err else ("Completed" if c.exit_code == 0 else "Error", "")
        if p.terminating:
            if not p.procs:
                self._finish_deletion(p)
            return
        policy = p.state.restart_policy
        if c.init and c.exit_code == 0:
            self._start_next(p)
            return
        if policy == "Always" or (policy == "OnFailure" and c.exit_code != 0) or (c.init and policy != "Never"):
            self._restart(p, c)
        elif c.init:
            p.state.failed_init = True
        self._write(p)

    def _restart(self, p: _Pod, c: ContainerState) -> None:
        c.last = c.terminated()
        delay = 0.0 if c.restart_count == 0 else min(self.cluster.restart_backoff * 2 ** (c.restart_count - 1),
                                                     MAX_BACKOFF)
        c.state, c.message = "waiting", ""
        c.reason = "CrashLoopBackOff"
        c.message = (f"back-off {delay:g}s restarting failed container={c.name} pod={p.key[1]}_{p.key[0]}"
                     f"({p.uid})")
        if delay:
            self._event(p, "BackOff", "Back-off restarting failed container "
                        f"{c.name} in pod {p.key[1]}_{p.key[0]}({p.uid})", c, "Warning")

        def again() -> None:
            c.restart_count += 1
            self._spawn(p, c)
            self._write(p)
        self._after(delay, p, again)

    def _terminate(self, p: _Pod, grace: float) -> None:
        if p.terminating:
            if _now() + grace < p.kill_at:
                p.kill_at = _now() + grace
                self._after(grace, None, lambda: self._kill(p, signal.SIGKILL))
            return
        p.terminating = True
        p.gen += 1  # cancels pending starts and back-offs
        if not p.procs:
            self._finish_deletion(p)
            return
        for name in p.procs:
            c = next(x for x in p.state.containers() if x.name == name)
            self._event(p, "Killing", f"Stopping container {name}", c)
        self._kill(p, signal.SIGTERM)
        p.kill_at = _now() + grace
        self._after(grace, None, lambda: self._kill(p, signal.SIGKILL))

    def _kill(self, p: _Pod, sig: int) -> None:
        for proc in p.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.proc.pid, sig)

    def _finish_deletion(self, p: _Pod) -> None:
        self._write(p)
        self._forget(p)
        live = self.store.get("", "pods", *p.key)
        if live is not None and live["metadata"].get("uid") == p.uid:
            with contextlib.suppress(ApiError):
                self.store.delete("", "pods", *p.key)

    def _forget(self, p: _Pod) -> None:
        p.forgotten = True
        if self._pods.get(p.key) is p:
            del self._pods[p.key]
        self.logbook.forget(*p.key)
        shutil.rmtree(p.staging, ignore_errors=True)
        if not p.procs:
            shutil.rmtree(self.workdir / "logs" / f"{p.key[0]}_{p.key[1]}_{p.uid[:8]}", ignore_errors=True)

    def _shutdown(self) -> None:
        for p in list(self._pods.values()):
            self._kill(p, signal.SIGKILL)
            for proc in p.procs.values():
                proc.proc.wait()
                os.close(proc.pidfd)
                proc.run.done.set()
            p.procs.clear()
            self._forget(p)

    # ---- writing to the API ----

    def _write(self, p: _Pod) -> None:
        if p.forgotten:
            return
        for c in p.state.containers():
            if c.state == "waiting" and c.reason not in ("ErrImagePull", "ImagePullBackOff"):
                self.logbook.set_waiting(*p.key, c.name, c.reason)
        for _ in range(5):
            live = self.store.get("", "pods", *p.key)
            if live is None or live["metadata"].get("uid") != p.uid:
                return
            status = pod_status(p.state, live.get("status"))
            if status == live.get("status"):
                return
            live["status"] = status
            try:
                self.store.update("", "pods", live)
                return
            except ApiError:
                continue

    def _event(self, p: _Pod, reason: str, message: str, c: ContainerState | None, etype: str = "Normal") -> None:
        ns, name = p.key
        now = now_rfc3339()
        involved: Obj = {"kind": "Pod", "namespace": ns, "name": name, "uid": p.uid, "apiVersion": "v1"}
        if c is not None:
            involved["fieldPath"] = f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"
        with contextlib.suppress(ApiError):
            self.store.create("", "events", {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": f"{name}.{uuid.uuid4().hex[:16]}", "namespace": ns},
                "involvedObject": involved, "reason": reason, "message": message, "type": etype,
                "source": {"component": "kubelet", "host": p.node.name}, "firstTimestamp": now,
                "lastTimestamp": now, "count": 1, "reportingComponent": "kubelet", "reportingInstance": p.node.name})


def _now() -> float:
    import time
    return time.monotonic()
