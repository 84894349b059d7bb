"""What a check pod's status and log say: a report, not yet, or why the node could not be checked (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from multusctl.fleet.node_main import ERROR_PREFIX, REPORT_PREFIX
from multusctl.fleet.podspec import CONTAINER

Obj = dict[str, Any]

# Waiting reasons after which the kubelet will not run the checker before any sensible deadline.
FATAL_WAITING = {
    "ErrImagePull": "the image cannot be pulled",
    "ImagePullBackOff": "the image cannot be pulled",
    "InvalidImageName": "the image name is invalid",
    "ErrImageNeverPull": "the image is not on the node and the pull policy forbids pulling it",
    "CreateContainerConfigError": "the container cannot be configured",
    "CreateContainerError": "the container cannot be created",
    "RunContainerError": "the container cannot be started",
    "CrashLoopBackOff": "the checker keeps crashing",
}


@dataclass(frozen=True)
class Verdict:
    state: Literal["waiting", "done", "failed"]
    why: str = ""
    kind: str = ""  # model.FAILURE_KINDS, when failed


def _check_status(pod: Obj) -> Obj | None:
    status = pod.get("status") or {}
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if cs.get("name") == CONTAINER:
            return dict(cs)
    return None


def _with(message: str, detail: str | None) -> str:
    detail = " ".join(str(detail or "").split())
    return f"{message}: {detail[:300]}" if detail else message


def judge_pod(pod: Obj) -> Verdict:
    status = pod.get("status") or {}
    cs = _check_status(pod) or {}
    state = cs.get("state") or {}
    if "terminated" in state:
        term = state["terminated"] or {}
        code = term.get("exitCode")
        if code == 0:
            return Verdict("done")
        return Verdict("failed", _with(f"the node checker exited with code {code} ({term.get('reason') or 'Error'})",
                                       term.get("message")), "checker")
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    if reason in FATAL_WAITING:
        containers: list[Obj] = list((pod.get("spec") or {}).get("containers") or [])
        image = str(containers[0].get("image") or "") if containers else ""
        what = FATAL_WAITING[reason] + (f" ({image})" if reason.endswith(("Pull", "PullBackOff", "Name")) else "")
        kind = "image" if "Image" in reason else "checker" if reason == "CrashLoopBackOff" else "rejected"
        return Verdict("failed", _with(f"{what} [{reason}]", waiting.get("message")), kind)
    phase = status.get("phase")
    if phase == "Failed":
        why = str(status.get("reason") or "Failed")
        text = {"Evicted": "the pod was evicted", "DeadlineExceeded": "the pod ran past its activeDeadlineSeconds"}
        kind = {"Evicted": "evicted", "DeadlineExceeded": "timeout"}.get(why, "rejected")
        return Verdict("failed", _with(f"{text.get(why, 'the kubelet rejected the pod')} [{why}]",
                                       status.get("message")), kind)
    if phase == "Succeeded":
        return Verdict("done")
    return Verdict("waiting")


def pending_state(pod: Obj | None) -> str:
    """The pod's last state in a few words, for a node that ran out of time."""
    if pod is None:
        return "the pod was never seen"
    status = pod.get("status") or {}
    cs = _check_status(pod) or {}
    waiting = (cs.get("state") or {}).get("waiting") or {}
    parts = [f"pod {status.get('phase') or 'Pending'}"]
    if waiting.get("reason"):
        parts.append(f"container waiting: {waiting['reason']}")
    elif "running" in (cs.get("state") or {}):
        parts.append("the checker still running")
    return ", ".join(parts)


def parse_log(text: str) -> tuple[Obj | None, str]:
    """(the report, "") from the checker's log, or (None, why there is none)."""
    for line in reversed(text.splitlines()):
        if line.startswith(REPORT_PREFIX):
            try:
                doc = json.loads(line[len(REPORT_PREFIX):])
            except ValueError:
                return None, "the node checker's report is not valid JSON (the log was cut?)"
            if not isinstance(doc, dict) or doc.get("schema") != "multusctl.report/v1":
                return None, "the node checker printed a report of an unknown schema"
            return doc, ""
        if line.startswith(ERROR_PREFIX):
            try:
                err = json.loads(line[len(ERROR_PREFIX):])
            except ValueError:
                err = None
            said = " ".join(str(err.get("error") or "").split()) if isinstance(err, dict) else ""
            return None, f"the node checker could not read the node: {said or 'no reason given'}"
    tail = " ".join(text.strip().splitlines()[-3:])[-300:]
    return None, "the node checker printed no report" + (f" (log ends: {tail})" if tail else " (empty log)")
