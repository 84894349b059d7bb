"""One `check --all-nodes` run: create the pods, follow them by one watch, read each report, clean up.

Threads: the caller's thread decides everything (a queue of events and the nearest deadline); one thread
keeps a watch on the run's pods (re-listing after an error, so no pod is missed); a small pool makes the
API calls (create, log, events, delete), each after a token of the client-side rate limit. At most
`concurrency` pods are alive at once in pod mode; the DaemonSet mode (auto above `daemonset_above` ready
nodes) makes one object and lets the controller create the pods. Everything made is owned by the run's
ConfigMap, deleted at the end, on Ctrl-C too; the owners of killed runs are swept by the next run once
their `expires-at` has passed, and the garbage collector takes their pods and DaemonSet with them.
"""

from __future__ import annotations

import heapq
import math
import queue
import secrets as _random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from multusctl.config.credentials import timestamp
from multusctl.fleet import outcome, podspec, zipapp
from multusctl.fleet.model import FleetResult, NodeResult
from multusctl.fleet.nodes import DISTRO_MOUNTS, NodeInfo, node_info
from multusctl.fleet.ratelimit import TokenBucket
from multusctl.fleet.selector import match_expressions
from multusctl.interrupt import exit_status

Obj = dict[str, Any]
WATCH_SECONDS = 10  # one watch stream's server-side timeout; the thread re-watches until the run ends
MOUNT_POLL_SECONDS = 2.0  # how often the namespace's FailedMount events are listed: one call, whatever N
# The kubelet's FailedMount for a hostPath whose type check fails (pkg/volume/hostpath): the directory is not on
# that node and will not appear by waiting, unlike a ConfigMap volume that is briefly not synced yet.
HOSTPATH_MISSING = "hostPath type check failed"


class FleetError(Exception):
    """The run cannot start (no nodes, no permission, a bad selector): one line."""


@dataclass
class Options:
    selector: str | None = None
    namespace: str = "kube-system"
    image: str = podspec.DEFAULT_IMAGE
    concurrency: int = 20
    timeout: float = 60.0  # per node, from its pod's creation to its report
    qps: float = 20.0
    burst: int = 40
    mode: str = "auto"  # auto | pods | daemonset
    daemonset_above: int = 300


def _run_id() -> str:
    return "".join(_random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(6))


class _Run:
    def __init__(self, api: Any, opts: Options, say: Callable[[str], None]) -> None:
        self.api, self.opts, self.say = api, opts, say
        self.bucket = TokenBucket(opts.qps, opts.burst)
        self.events: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=max(2, min(8, opts.concurrency)))
        self.stop = threading.Event()
        self.run = _run_id()
        self.results: dict[str, NodeResult] = {}
        self.open: set[str] = set()
        self.deadline: dict[str, float] = {}
        self.started: dict[str, float] = {}
        self.pod_of: dict[str, str] = {}
        self.last_pod: dict[str, Obj] = {}
        self.asked: set[str] = set()  # nodes whose log or events were asked for
        self.pending: deque[NodeInfo] = deque()
        self.own_pods: set[str] = set()  # nodes with a pod of their own (not the DaemonSet's)
        self.alive = 0  # own pods made and not yet answered: at most `concurrency`
        self.timers: list[tuple[float, str]] = []  # (deadline, node), a heap: each event costs O(log N)
        self.owner: Obj | None = None
        self.index = 0
        self.mounts_at = 0.0  # when FailedMount events were last asked for
        self.mounts_pending = False

    # -------------------------------------------------------------- API calls, rate limited

    def call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        self.bucket.take()
        return fn(*args, **kw)

    def submit(self, tag: str, node: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        def work() -> None:
            try:
                out: Any = self.call(fn, *args, **kw)
            except Exception as exc:  # the API's one-line failure, handed to the deciding thread
                out = exc
            self.events.put((tag, node, out))

        self.pool.submit(work)

    # -------------------------------------------------------------- the run

    def execute(self, result: FleetResult) -> None:
        nodes, _ = self.call(self.api.list_objects, "v1", "Node", labels=self.opts.selector)
        if not nodes:
            raise FleetError("no node matches" + (f" -l {self.opts.selector}" if self.opts.selector else ""))
        infos = sorted((node_info(n) for n in nodes), key=lambda i: i.name)
        ready = [i for i in infos if i.ready]
        daemonset = self.opts.mode == "daemonset" or (self.opts.mode == "auto"
                                                      and len(ready) > self.opts.daemonset_above)
        result.mode = "daemonset" if daemonset else "pods"
        self.preflight(daemonset)
        self.sweep()
        for info in infos:
            self.results[info.name] = NodeResult(info.name, info.distro)
            if not info.ready:
                self.resolve(info.name, failure=("notready", info.not_ready_why))
        if ready:
            self.start(ready, daemonset, [i.name for i in infos if not i.ready])
            self.loop()

    def start(self, ready: list[NodeInfo], daemonset: bool, not_ready: list[str]) -> None:
        rounds = 1 if daemonset else math.ceil(len(ready) / max(1, self.opts.concurrency))
        expires = datetime.now(UTC) + timedelta(seconds=self.opts.timeout * rounds + 120)
        cm = podspec.owner_configmap(self.run, self.opts.namespace, zipapp.build(), timestamp(expires))
        self.owner = self.call(self.api.create_object, cm)
        self.say(f"run {self.run}: {len(ready)} ready node(s), {'one DaemonSet' if daemonset else 'a pod each'}, "
                 f"namespace {self.opts.namespace}")
        threading.Thread(target=self.watch, name="multusctl-fleet-watch", daemon=True).start()
        self.open |= {i.name for i in ready}
        if not daemonset:
            self.pending.extend(ready)
            self.fill()
            return
        # Nodes whose layout needs more than the base mounts get a pod of their own, outside the DaemonSet.
        own = [i for i in ready if i.distro in DISTRO_MOUNTS]
        term: Obj = {}
        if self.opts.selector:
            term["matchExpressions"] = match_expressions(self.opts.selector)
        # A DaemonSet tolerates not-ready nodes by itself; a pod there would never run and, once deleted, stay
        # Terminating until the node comes back: keep it off those nodes too.
        if excluded := [i.name for i in own] + not_ready:
            term["matchFields"] = [{"key": "metadata.name", "operator": "NotIn", "values": [n]} for n in excluded]
        now = time.monotonic()
        for info in ready:
            self.set_deadline(info.name, now)
        assert self.owner is not None
        self.call(self.api.create_object, podspec.daemonset(self.owner, self.run, self.opts.image,
                                                            [term] if term else []))
        for info in own:
            self.create_pod(info)

    def create_pod(self, info: NodeInfo) -> None:
        assert self.owner is not None
        self.index += 1
        pod = podspec.node_pod(self.owner, self.run, self.index, info.name, info.distro, self.opts.image,
                               math.ceil(self.opts.timeout))
        self.pod_of[info.name] = pod["metadata"]["name"]
        self.own_pods.add(info.name)
        self.alive += 1
        self.set_deadline(info.name, time.monotonic())
        self.submit("created", info.name, self.api.create_object, pod)

    def set_deadline(self, node: str, now: float) -> None:
        self.started[node], self.deadline[node] = now, now + self.opts.timeout
        heapq.heappush(self.timers, (self.deadline[node], node))

    def fill(self) -> None:
        while self.pending and self.alive < self.opts.concurrency:
            self.create_pod(self.pending.popleft())

    def loop(self) -> None:
        while self.open:
            while self.timers and (self.timers[0][1] not in self.open or self.timers[0][1] in self.asked):
                heapq.heappop(self.timers)  # answered, or its log is on the way: no longer a deadline
            nearest = self.timers[0][0] - time.monotonic() if self.timers else 1.0
            timeout = min(1.0, max(0.05, nearest))
            try:
                tag, node, value = self.events.get(timeout=timeout)
            except queue.Empty:
                pass
            else:
                self.handle(tag, node, value)
            self.expire()
            self.poll_mounts()

    def handle(self, tag: str, node: str, value: Any) -> None:
        if tag == "pod":
            self.on_pod(node, value)
        elif tag == "mounts":
            self.mounts_pending = False
            if not isinstance(value, Exception):  # else the deadline still reads the pod's events
                self.on_mount_events(value)
        elif node not in self.open:
            return
        elif isinstance(value, Exception):
            what = {"created": "creating its pod", "log": "reading its report", "events": "reading its events"}
            self.resolve(node, failure=("api", f"{what.get(tag, tag)} failed: {value}"))
        elif tag == "log":
            report, why = outcome.parse_log(str(value))
            self.resolve(node, report=report, failure=None if report is not None else ("checker", why))
        elif tag == "events":
            self.timed_out(node, value)

    def on_pod(self, etype: str, pod: Obj) -> None:
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        name = str((pod.get("metadata") or {}).get("name") or "")
        if node not in self.open or self.pod_of.setdefault(node, name) != name:
            return
        self.last_pod[node] = pod
        if etype == "DELETED":
            self.resolve(node, failure=("deleted", "the check pod was deleted before it reported"))
            return
        verdict = outcome.judge_pod(pod)
        if verdict.state == "done" and node not in self.asked:
            self.asked.add(node)
            self.submit("log", node, self.api.pod_log, self.opts.namespace, name, podspec.CONTAINER)
        elif verdict.state == "failed":
            self.resolve(node, failure=(verdict.kind, verdict.why))

    def expire(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, node = heapq.heappop(self.timers)
            if node in self.open and node not in self.asked:
                self.asked.add(node)
                pod = self.pod_of.get(node)
                if pod is None:
                    self.timed_out(node, [])
                else:
                    self.submit("events", node, self.api.list_objects, "v1", "Event", self.opts.namespace,
                                fields=f"involvedObject.name={pod}")

    def poll_mounts(self) -> None:
        """A hostPath the pod needs that the node lacks is known from its first FailedMount event (~1 s), not
        only at the node's deadline (--timeout)."""
        now = time.monotonic()
        if self.mounts_pending or not self.pod_of or now - self.mounts_at < MOUNT_POLL_SECONDS:
            return
        self.mounts_pending, self.mounts_at = True, now
        self.submit("mounts", "", self.api.list_objects, "v1", "Event", self.opts.namespace,
                    fields="involvedObject.kind=Pod,reason=FailedMount")

    def on_mount_events(self, listed: Any) -> None:
        items = listed[0] if isinstance(listed, tuple) else []
        node_of = {pod: node for node, pod in self.pod_of.items()}
        for event in items:
            node = node_of.get(str((event.get("involvedObject") or {}).get("name") or ""))
            message = " ".join(str(event.get("message") or "").split())
            if node in self.open and node not in self.asked and HOSTPATH_MISSING in message:
                self.resolve(node, failure=("mount", f"its pod cannot start (FailedMount: {message[:200]})"))

    def timed_out(self, node: str, listed: Any) -> None:
        items = listed[0] if isinstance(listed, tuple) else []
        last = max(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), default=None)
        state = outcome.pending_state(self.last_pod.get(node))
        why = f"no report within {self.opts.timeout:g} s ({state}"
        kind = "timeout"
        if last is not None:
            why += f"; last event {last.get('reason')}: {' '.join(str(last.get('message') or '').split())[:200]}"
            kind = "mount" if last.get("reason") == "FailedMount" else kind
        self.resolve(node, failure=(kind, why + ")"))

    def resolve(self, node: str, *, report: Obj | None = None, failure: tuple[str, str] | None = None) -> None:
        res = self.results[node]
        self.open.discard(node)
        self.last_pod.pop(node, None)  # only a deadline needs it: at 5,000 nodes these would be ~25 MB
        res.report = report
        if failure is not None:
            res.failure_kind, res.failure = failure
        pod = self.pod_of.get(node)
        res.pod = f"{self.opts.namespace}/{pod}" if pod else ""
        if node in self.started:
            res.duration_ms = int((time.monotonic() - self.started[node]) * 1000)
        self.say(f"{node}: " + (f"{len(report.get('findings') or [])} finding(s)" if report is not None
                                else f"not checked ({res.failure_kind})"))
        if node in self.own_pods:
            self.alive -= 1
        if pod and node in self.own_pods:  # done with: keep the cluster's pod count to `concurrency`
            self.submit("deleted", node, self.api.delete_object, "v1", "Pod", pod, self.opts.namespace)
        self.fill()

    # -------------------------------------------------------------- watch and cleanup

    def watch(self) -> None:
        labels = f"{podspec.RUN_LABEL}={self.run}"
        rv: str | None = None
        while not self.stop.is_set():
            try:
                if rv is None:
                    items, rv = self.api.list_objects("v1", "Pod", self.opts.namespace, labels=labels)
                    for item in items:
                        self.events.put(("pod", "ADDED", item))
                for etype, obj in self.api.watch_objects("v1", "Pod", self.opts.namespace, timeout=WATCH_SECONDS,
                                                         labels=labels, resource_version=rv):
                    if self.stop.is_set():
                        return
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    self.events.put(("pod", etype, obj))
            except Exception:  # 410 Gone, a cut stream: list again, so that nothing is missed
                rv = None
                self.stop.wait(0.5)

    def preflight(self, daemonset: bool) -> None:
        """Every permission the run needs, asked before the first change: all that are missing, in one line."""
        ns = self.opts.namespace
        wanted = [("list", "configmaps", "", ns), ("create", "configmaps", "", ns), ("delete", "configmaps", "", ns),
                  ("create", "pods", "", ns), ("delete", "pods", "", ns), ("list", "pods", "", ns),
                  ("watch", "pods", "", ns), ("get", "pods/log", "", ns), ("list", "events", "", ns)]
        if daemonset:
            wanted.append(("create", "daemonsets", "apps", ns))
        missing = [f"{verb} {res}" for verb, res, group, where in wanted
                   if not self.call(self.api.can_i, verb, res, group, where)]
        if missing:
            raise FleetError(f"the admin kubeconfig may not {', '.join(missing)} in namespace {ns}; "
                             "check --all-nodes needs them (README: what the cluster must allow)")
        self.pod_security(ns)

    def pod_security(self, ns: str) -> None:
        """A namespace that enforces PodSecurity baseline or restricted refuses every check pod (read-only
        hostPath volumes, uid 0): said once, before anything is made, not once per node (pods) or never (a
        DaemonSet's pods are refused in its events). Reading the namespace is no precondition: without that
        permission the run goes on."""
        from multusctl.provision.api import ApiFailure

        try:
            obj = self.call(self.api.get_object, "v1", "Namespace", ns) or {}
        except ApiFailure:
            return
        labels = (obj.get("metadata") or {}).get("labels") or {}
        level = labels.get("pod-security.kubernetes.io/enforce") if isinstance(labels, dict) else None
        if level in ("baseline", "restricted"):
            raise FleetError(f'namespace {ns} enforces PodSecurity "{level}", which refuses the check pods (they '
                             "mount host directories read-only); use a namespace that allows them (--namespace), or "
                             f"allow it: kubectl label namespace {ns} pod-security.kubernetes.io/enforce=privileged "
                             "--overwrite")

    def sweep(self) -> None:
        """Delete the owners of earlier runs that were killed (their deadline is past); the GC does the rest."""
        labels = f"app.kubernetes.io/name={podspec.APP},app.kubernetes.io/managed-by=multusctl"
        items, _ = self.call(self.api.list_objects, "v1", "ConfigMap", self.opts.namespace, labels=labels)
        now = timestamp(datetime.now(UTC))
        for cm in items:
            meta = cm.get("metadata") or {}
            if str((meta.get("annotations") or {}).get(podspec.EXPIRES) or "") < now:
                self.call(self.api.delete_object, "v1", "ConfigMap", meta["name"], self.opts.namespace,
                          uid=meta.get("uid"))
                self.say(f"removed the leftovers of killed run {meta['name']}")

    def cleanup(self) -> str:
        """Delete the owner (the GC takes the pods and the DaemonSet); '' or why that failed."""
        self.stop.set()
        self.pending.clear()
        self.pool.shutdown(wait=True)
        if self.owner is None:
            return ""
        meta = self.owner["metadata"]
        try:
            self.api.delete_object("v1", "ConfigMap", meta["name"], self.opts.namespace, uid=meta.get("uid"))
        except Exception as exc:
            return (f"could not remove run {self.run} ({exc}); remove it with `kubectl delete configmap -n "
                    f"{self.opts.namespace} {meta['name']}` (its pods go with it)")
        return ""


def run(api: Any, opts: Options, say: Callable[[str], None] = lambda _line: None) -> FleetResult:
    """Check every node `opts` selects; a NodeResult for each, whatever happened to it."""
    r = _Run(api, opts, say)
    result = FleetResult(r.run, opts.namespace, "pods", selector=opts.selector)
    t0 = time.monotonic()
    try:
        r.execute(result)
    except KeyboardInterrupt as exc:
        result.interrupted, result.exit_status = True, exit_status(exc)
        r.pending.clear()
        for node in sorted(r.open):
            r.resolve(node, failure=("interrupted", "the run was interrupted (Ctrl-C) before the node reported"))
    finally:
        result.leftover = r.cleanup()
        result.duration_ms = int((time.monotonic() - t0) * 1000)  # cleanup included: what the user waited
    result.nodes = [r.results[n] for n in sorted(r.results)]
    return result
