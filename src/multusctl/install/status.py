"""`multusctl status`: the DaemonSet's counts, every pod's state per node, the NAD count, the version."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from multusctl.install.objects import SELECTOR
from multusctl.install.rollout import Progress
from multusctl.provision.api import ApiFailure

Obj = dict[str, Any]

_VERSION = re.compile(r"^(v?\d+\.\d+(?:\.\d+)?)")


@dataclass
class PodState:
    node: str
    pod: str
    state: str  # Running, CrashLoopBackOff, ImagePullBackOff, Pending, OOMKilled, ...
    ready: bool
    restarts: int = 0
    message: str = ""  # the last termination (OOMKilled: its message) or the waiting reason's message


@dataclass
class Status:
    namespace: str
    installed: bool
    daemonset: str | None = None
    desired: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    observed: bool = True
    image: str | None = None
    version: str | None = None
    mode: str | None = None  # thin | thick, from the image tag
    nads: int | None = None  # None: the NAD CRD is not installed (or not readable)
    pods: list[PodState] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def all_ready(self) -> bool:
        return (self.installed and self.observed and self.ready >= self.desired and self.updated >= self.desired
                and all(p.ready for p in self.pods) and not self.problems)

    @property
    def exit_code(self) -> int:
        return 0 if self.all_ready else 1

    def to_json(self) -> Obj:
        out = asdict(self)
        out["ready_all"] = self.all_ready
        return out


def image_version(image: str | None) -> tuple[str | None, str | None]:
    """(version, thin|thick) from an image reference's tag: `...multus-cni:v4.3.0-thick` -> (v4.3.0, thick)."""
    if not image:
        return None, None
    ref = image.split("@", 1)[0]
    tail = ref.rsplit("/", 1)[-1]
    tag = tail.split(":", 1)[1] if ":" in tail else ""
    m = _VERSION.match(tag)
    version = m.group(1) if m else (tag or None)
    return version, ("thick" if "thick" in tag else "thin") if tag else None


def pod_state(pod: Obj) -> PodState:
    meta, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    statuses = [*(st.get("initContainerStatuses") or []), *(st.get("containerStatuses") or [])]
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
    state, message = st.get("phase") or "Pending", ""
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting")
        terminated = (c.get("state") or {}).get("terminated")
        last = (c.get("lastState") or {}).get("terminated")
        if waiting and waiting.get("reason"):
            state, message = waiting["reason"], waiting.get("message") or ""
        elif terminated and terminated.get("reason") and terminated.get("exitCode"):
            state = terminated["reason"]
        if last and last.get("reason"):
            # The last termination says why it crash-loops; an OOMKill is named even once it runs again.
            why = f"last terminated: {last['reason']} (exit code {last.get('exitCode', '?')})"
            if last.get("message"):
                why += f": {last['message'].strip().splitlines()[-1][:200]}"
            if last["reason"] == "OOMKilled" and (state == "CrashLoopBackOff" or not ready):
                state = "OOMKilled"
            message = why + (f"; {message}" if message else "")
        if state not in ("Running", "Succeeded", "Pending"):
            break
    if state == "Running" and not ready:
        state = "Running (not ready)"
    return PodState(spec.get("nodeName") or "(not scheduled)", meta.get("name", ""), state, ready, restarts,
                    message)


def _selector(ds: Obj) -> str:
    labels = ((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def status(api: Any, namespace: str = "kube-system") -> Status:
    """Read-only. Raises ApiFailure when the API cannot be read at all."""
    out = Status(namespace, installed=False)
    found, _ = api.list_objects("apps/v1", "DaemonSet", namespace, labels=SELECTOR)
    # The cleanup DaemonSet of an interrupted uninstall carries our labels too; it is not Multus.
    dss = [d for d in found if ((d.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
           != "node-cleanup"]
    try:
        nads, _ = api.list_objects("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", None)
        out.nads = len(nads)
    except ApiFailure as exc:
        if exc.code != 404:
            out.problems.append(f"cannot count NetworkAttachmentDefinitions: {exc}")
    if not dss:
        out.problems.append(f"no DaemonSet labelled {SELECTOR} in namespace {namespace}: Multus is not "
                            "installed by multusctl here")
        return out
    if len(dss) > 1:
        out.problems.append("more than one multusctl DaemonSet: " + ", ".join(d["metadata"]["name"] for d in dss))
    ds = dss[0]
    out.installed, out.daemonset = True, ds["metadata"]["name"]
    prog = Progress.of(ds)
    out.desired, out.ready, out.updated, out.available, out.observed = (
        prog.desired, prog.ready, prog.updated, prog.available, prog.observed)
    containers = (((ds.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    main = next((c for c in containers if "multus" in (c.get("name") or "")), containers[0] if containers else {})
    out.image = main.get("image")
    out.version, out.mode = image_version(out.image)
    uid = ds["metadata"].get("uid")
    pods, _ = api.list_objects("v1", "Pod", namespace, labels=_selector(ds) or None)
    mine = [p for p in pods if not (p["metadata"].get("ownerReferences"))
            or any(o.get("uid") == uid for o in p["metadata"]["ownerReferences"])]
    out.pods = sorted((pod_state(p) for p in mine), key=lambda s: (s.node, s.pod))
    if out.desired == 0:
        out.problems.append("the DaemonSet schedules no pod (no node matches its nodeSelector/tolerations)")
    return out


def render_text(st: Status) -> list[str]:
    lines = []
    if st.installed:
        lines.append(f"DaemonSet {st.namespace}/{st.daemonset}: desired {st.desired}, ready {st.ready}, "
                     f"updated {st.updated}, available {st.available}"
                     + ("" if st.observed else " (new spec not yet observed)"))
        lines.append(f"Multus {st.version or 'unknown version'} ({st.mode or 'unknown mode'}), image {st.image}")
    nads = "NAD CRD not installed" if st.nads is None else f"{st.nads} NetworkAttachmentDefinition(s)"
    lines.append(nads)
    for p in st.pods:
        extra = f", {p.restarts} restart(s)" if p.restarts else ""
        lines.append(f"  {p.node}: {p.pod} {p.state}{extra}" + (f" - {p.message}" if p.message else ""))
    lines += [f"! {p}" for p in st.problems]
    lines.append("all ready" if st.all_ready else "NOT ready")
    return lines
