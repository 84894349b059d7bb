"""The multus DaemonSet, its pods and their logs, and the thick daemon's socket on this node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from multusctl.checks.registry import Hit, check
from multusctl.doctor.probe import ClusterProbe
from multusctl.report.finding import Severity

BAD_WAITING = ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError",
               "CreateContainerError", "RunContainerError")
MAX_LOG_FINDINGS = 5  # per pod: the first distinct failures say enough


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def pod_problems(pod: dict[str, Any]) -> list[str]:
    """One phrase per container that is not well: waiting for a bad reason, or last killed for memory."""
    out = []
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if not isinstance(cs, dict):
            continue
        waiting = (cs.get("state") or {}).get("waiting") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if last.get("reason") == "OOMKilled":
            out.append(f"{cs.get('name')} was OOMKilled (restarts: {cs.get('restartCount', 0)})")
        elif waiting.get("reason") in BAD_WAITING:
            msg = str(waiting.get("message") or last.get("message") or "").splitlines()
            out.append(f"{cs.get('name')} is in {waiting['reason']}" + (f": {msg[0][:160]}" if msg else ""))
    return out


@check("daemonset-unhealthy")
def daemonset_unhealthy(probe: ClusterProbe) -> Iterator[Hit]:
    step = probe.steps.get("daemonset")
    if step is None or step.status != "ok" or probe.daemonsets is None:
        return
    if not probe.daemonsets:
        if probe.mode in ("thin", "thick"):
            return  # installed by hand on the node: nothing for a DaemonSet to keep alive
        yield Hit(message="No multus DaemonSet in any namespace, and this node has no multus config: Multus is "
                  "not installed (pods get only the primary network).",
                  fix="Install Multus (its DaemonSet, or the rke2-multus chart on k3s/rke2)",
                  evidence={"duration_ms": step.duration_ms})
        return
    for ds in probe.daemonsets:
        status = ds.get("status") or {}
        desired = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        updated = int(status.get("updatedNumberScheduled") or desired)
        labels = ((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        pods = [p for p in probe.pods if (p.get("metadata") or {}).get("namespace") == (ds.get("metadata") or {})
                .get("namespace") and all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v
                                          for k, v in labels.items())]
        bad = [f"{_name(p)}: {'; '.join(pod_problems(p))}" for p in pods if pod_problems(p)]
        if ready >= desired and updated >= desired and not bad:
            continue
        oom = any("OOMKilled" in b for b in bad)
        yield Hit(message=f"DaemonSet {_name(ds)}: {ready} of {desired} pods ready, {updated} updated"
                  + (f"; {'; '.join(bad[:10])}" if bad else "")
                  + (f" (and {len(bad) - 10} more)" if len(bad) > 10 else "") + ". Pods on the nodes without a "
                  "ready multus pod fail or get only the primary network.",
                  fix=("Raise the memory limit of the multus container (thick: at least 100Mi, MC#1346); "
                       if oom else "") + f"See why: kubectl -n {_name(ds).split('/')[0]} describe pod -l "
                  + ",".join(f"{k}={v}" for k, v in labels.items()) + "; and the logs (doctor reads them with "
                  "--kubeconfig)",
                  path=_name(ds), evidence={"desired": desired, "ready": ready, "updated": updated,
                                            "pods": bad[:10], "duration_ms": step.duration_ms})


@check("multus-log-error")
def multus_log_error(probe: ClusterProbe) -> Iterator[Hit]:
    if not probe.logs:
        return
    from multusctl.explain import explain

    step = probe.steps.get("logs")
    for pod, text in probe.logs.items():
        for match in explain(text)[:MAX_LOG_FINDINGS]:
            cause = match.causes[0] if match.causes else None
            yield Hit(message=f"Pod {pod} logged a known failure, {match.id} ({match.title}): {match.excerpt}",
                      fix=(cause.fix if cause else f"multusctl explain '{match.excerpt[:80]}'"),
                      path=pod, severity=cast(Severity, match.severity if match.severity in ("error", "warning")
                                              else "error"),
                      evidence={"explain": match.id, "confirm": cause.check if cause else "",
                                "duration_ms": step.duration_ms if step else 0.0})


@check("daemon-socket-unreachable")
def daemon_socket_unreachable(probe: ClusterProbe) -> Iterator[Hit]:
    step = probe.steps.get("daemon-socket")
    if step is None or step.status != "failed":
        return
    yield Hit(message=f"The thick daemon's socket {probe.socket_path}: {step.detail}. The shim cannot hand pod ADDs "
              "to the daemon (`dial unix ...multus.sock: connect: connection refused`): every pod on this node "
              "stays in ContainerCreating.",
              fix="Check the multus pod on this node (kubectl -n kube-system get pods -o wide | grep multus; "
              "CrashLoopBackOff or OOMKilled: raise its memory limit to at least 100Mi) and that the DaemonSet "
              "mounts the host's /run/multus at the socketDir of daemon-config.json",
              path=probe.socket_path, evidence={"duration_ms": step.duration_ms, "reason": step.facts.get("kind")})
