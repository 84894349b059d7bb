"""Pod status as the kubelet reports it: container states, phase and the four conditions.

The kubelet (``multusctl.testing.kubelet``) keeps a :class:`PodState` per pod it runs and writes
:func:`pod_status` of it after every change. Wording follows the kubelet 1.31: waiting reasons
(ContainerCreating, PodInitializing, ErrImagePull, ImagePullBackOff, CrashLoopBackOff), terminated reasons
(Completed, Error, StartError), ``containers with unready status: [...]`` and PodCompleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from multusctl.testing.store import Obj, now_rfc3339


@dataclass
class ContainerState:
    name: str
    image: str
    init: bool = False
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str = ""
    exit_code: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    restart_count: int = 0
    last: Obj | None = None
    container_id: str = ""

    def image_id(self) -> str:
        if not self.container_id:
            return ""
        digest = hashlib.sha256(self.image.encode()).hexdigest()
        repo = self.image.rsplit(":", 1)[0] if ":" in self.image.rsplit("/", 1)[-1] else self.image
        return f"{repo}@sha256:{digest}"

    def terminated(self) -> Obj:
        out: Obj = {"exitCode": self.exit_code, "reason": self.reason, "startedAt": self.started_at,
                    "finishedAt": self.finished_at, "containerID": self.container_id}
        if self.message:
            out["message"] = self.message
        return out

    def status(self) -> Obj:
        state: Obj
        if self.state == "running":
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            state = {"terminated": self.terminated()}
        else:
            state = {"waiting": {"reason": self.reason, **({"message": self.message} if self.message else {})}}
        out: Obj = {"name": self.name, "image": self.image, "imageID": self.image_id(),
                    "ready": self.state == "running", "restartCount": self.restart_count,
                    "started": self.state == "running", "state": state,
                    "lastState": {"terminated": self.last} if self.last else {}}
        if self.container_id:
            out["containerID"] = self.container_id
        return out


@dataclass
class PodState:
    namespace: str
    name: str
    uid: str
    node: str
    restart_policy: str
    init: list[ContainerState]
    main: list[ContainerState]
    host_ip: str = ""
    pod_ip: str = ""
    start_time: str = field(default_factory=now_rfc3339)
    transitions: dict[str, tuple[str, str]] = field(default_factory=dict)
    failed_init: bool = False

    def containers(self) -> list[ContainerState]:
        return [*self.init, *self.main]

    def initialized(self) -> bool:
        return all(c.state == "terminated" and c.exit_code == 0 for c in self.init)

    def phase(self) -> str:
        if self.failed_init:
            return "Failed"
        if not self.initialized():
            return "Pending"
        main = self.main
        if main and all(c.state == "terminated" for c in main):
            if all(c.exit_code == 0 for c in main):
                return "Succeeded"
            return "Failed"
        if any(c.state == "running" or c.restart_count > 0 or c.last for c in main):
            return "Running"
        return "Pending"

    def _condition(self, ctype: str, ok: bool, reason: str = "", message: str = "") -> Obj:
        status = "True" if ok else "False"
        prev = self.transitions.get(ctype)
        when = prev[1] if prev and prev[0] == status else now_rfc3339()
        self.transitions[ctype] = (status, when)
        cond: Obj = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        return cond

    def conditions(self, phase: str) -> list[Obj]:
        unready = [c.name for c in self.main if c.state != "running"]
        incomplete = [c.name for c in self.init if not (c.state == "terminated" and c.exit_code == 0)]
        terminal = phase in ("Succeeded", "Failed")
        ready_reason = "PodCompleted" if terminal else "ContainersNotReady"
        ready_msg = "" if terminal else f"containers with unready status: [{' '.join(unready)}]"
        init_ok = not incomplete or (terminal and not self.failed_init)
        init_reason = "PodCompleted" if terminal and init_ok and self.init else (
            "" if init_ok else "ContainersNotInitialized")
        return [
            self._condition("PodReadyToStartContainers", True),
            self._condition("Initialized", init_ok, init_reason,
                            "" if init_ok else f"containers with incomplete status: [{' '.join(incomplete)}]"),
            self._condition("Ready", not unready, "" if not unready else ready_reason,
                            "" if not unready else ready_msg),
            self._condition("ContainersReady", not unready, "" if not unready else ready_reason,
                            "" if not unready else ready_msg),
            self._condition("PodScheduled", True),
        ]


def pod_status(ps: PodState, previous: Obj | None = None) -> Obj:
    phase = ps.phase()
    status: Any = dict(previous or {})
    status.update({
        "phase": phase, "conditions": ps.conditions(phase), "hostIP": ps.host_ip,
        "hostIPs": [{"ip": ps.host_ip}], "podIP": ps.pod_ip, "podIPs": [{"ip": ps.pod_ip}],
        "startTime": ps.start_time, "qosClass": status.get("qosClass") or "BestEffort",
        "containerStatuses": [c.status() for c in ps.main],
    })
    if ps.init:
        status["initContainerStatuses"] = [c.status() for c in ps.init]
    return status
