"""Cluster-wide reads with the admin kubeconfig: the multus DaemonSet, its pods and their logs, the thick
daemon's ServiceAccount, the NADs. A handful of list calls whatever the cluster's size (O(1) in objects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from multusctl.doctor.chain import NAD_GROUP, NADS, access_review, needs, review, skip_rest, timed
from multusctl.doctor.endpoint import Endpoint
from multusctl.doctor.probe import Access, ClusterProbe, Step
from multusctl.doctor.wire import Response, Session, WireError, connect, handshake, resolve

MAX_LOG_PODS = 20  # the unhealthy ones first: a log per pod of a 5,000-node DaemonSet is not a diagnosis
LOG_TAIL = 300


def open_session(ep: Endpoint, timeout: float) -> Session:
    address = resolve(ep.host, ep.port, timeout)[0]
    sock = connect(address, ep.port, timeout)
    session = Session(ep, address, timeout)
    session.attach(handshake(sock, ep, address, timeout) if ep.tls else sock)
    return session


def _get(session: Session, path: str) -> Response:
    resp = session.request("GET", path)
    if resp.status == 401:
        raise WireError("unauthorized", f"the admin kubeconfig {session.ep.path} is rejected (401)")
    if resp.status == 403:
        raise WireError("forbidden", f"the admin kubeconfig {session.ep.path} may not GET {path.split('?')[0]}")
    return resp


def _items(resp: Response, what: str) -> list[dict[str, Any]]:
    if resp.status != 200 or not isinstance(resp.body, dict):
        raise WireError("http-status", f"listing {what} answered {resp.status}")
    return [i for i in resp.body.get("items") or [] if isinstance(i, dict)]


def is_check_run(obj: dict[str, Any]) -> bool:
    """An object of a `check --all-nodes` run (its pods, DaemonSet, ConfigMap): ours, not Multus's."""
    from multusctl.fleet.podspec import APP

    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/name") == APP


def is_multus(ds: dict[str, Any]) -> bool:
    if is_check_run(ds):
        return False
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = [c for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                  if isinstance(c, dict)]
    name = str((ds.get("metadata") or {}).get("name") or "")
    return "multus" in name or any("multus" in str(c.get("image") or "") for c in containers)


def is_thick(ds: dict[str, Any]) -> bool:
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    words = " ".join(str(w) for c in spec.get("containers") or [] if isinstance(c, dict)
                     for w in [c.get("image") or "", *(c.get("command") or []), *(c.get("args") or [])])
    return "multus-daemon" in words or "thick" in words


def _unhealthy(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return not statuses or any(not s.get("ready") for s in statuses if isinstance(s, dict))


def read(probe: ClusterProbe, admin: Endpoint | None, timeout: float, report: Callable[[Step], None]) -> None:
    """The admin half of doctor: fills probe.daemonsets, pods, logs, daemon identity, NADs."""
    dependent = ("daemon-identity", "daemonset", "logs")
    if admin is None:
        skip_rest(probe, dependent, "skipped: give --kubeconfig ADMIN for cluster-wide reads")
        return
    holder: list[Session] = []

    def connect_admin() -> str:
        holder.append(open_session(admin, timeout))
        return f"{admin.server} as {admin.path}"

    if not timed(probe.step("admin"), connect_admin):
        report(probe.step("admin"))
        skip_rest(probe, dependent, f"skipped: the admin API did not answer ({probe.step('admin').detail})")
        return
    report(probe.step("admin"))
    session = holder[0]
    try:
        if timed(probe.step("daemonset"), lambda: _daemonsets(probe, session)):
            report(probe.step("daemonset"))
            if probe.mode == "thick" or any(is_thick(d) for d in probe.daemonsets or []):
                timed(probe.step("daemon-identity"), lambda: _daemon_identity(probe, session))
            else:
                probe.step("daemon-identity").detail = "skipped: thin mode (the plugin uses its kubeconfig)"
            report(probe.step("daemon-identity"))
            if probe.pods:
                timed(probe.step("logs"), lambda: _logs(probe, session))
            else:
                probe.step("logs").detail = "skipped: no multus pods"
            report(probe.step("logs"))
        else:
            report(probe.step("daemonset"))
            skip_rest(probe, ("daemon-identity", "logs"), "skipped: the DaemonSets could not be listed")
        list_nads(probe, session)
    finally:
        session.close()


def list_nads(probe: ClusterProbe, session: Session) -> None:
    def body() -> str:
        resp = session.request("GET", f"/apis/{NAD_GROUP}/v1/{NADS}")
        if resp.status == 404:
            probe.nads = []
            return "skipped: the NAD CRD is not installed"
        if resp.status in (401, 403):
            raise WireError("forbidden", f"{session.ep.path} may not list NADs ({resp.status}); give "
                            "--kubeconfig ADMIN")
        probe.nads = _items(resp, "NADs")
        return f"{len(probe.nads)} NetworkAttachmentDefinitions read"

    step = probe.step("nads")
    if timed(step, body) and step.detail.startswith("skipped:"):
        step.status = "skipped"


def _daemonsets(probe: ClusterProbe, session: Session) -> str:
    probe.daemonsets = [d for d in _items(_get(session, "/apis/apps/v1/daemonsets"), "DaemonSets") if is_multus(d)]
    for ds in probe.daemonsets:
        meta = ds.get("metadata") or {}
        labels = ((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not labels:
            continue
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        path = f"/api/v1/namespaces/{quote(str(meta.get('namespace') or 'default'))}/pods?" + \
            urlencode({"labelSelector": selector})
        probe.pods.extend(_items(_get(session, path), "multus pods"))
    if not probe.daemonsets:
        return "no multus DaemonSet in any namespace"
    names = ", ".join(f"{(d.get('metadata') or {}).get('namespace')}/{(d.get('metadata') or {}).get('name')}"
                      for d in probe.daemonsets)
    return f"{names}: {len(probe.pods)} pods"


def _logs(probe: ClusterProbe, session: Session) -> str:
    pods = sorted(probe.pods, key=lambda p: not _unhealthy(p))[:MAX_LOG_PODS]
    for pod in pods:
        meta = pod.get("metadata") or {}
        containers = ((pod.get("spec") or {}).get("containers") or [{}])
        container = str((containers[0] or {}).get("name") or "")
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        base = f"/api/v1/namespaces/{quote(str(meta.get('namespace')))}/pods/{quote(str(meta.get('name')))}/log?"
        texts = []
        for previous in ((False, True) if _unhealthy(pod) else (False,)):
            query = {"container": container, "tailLines": str(LOG_TAIL)}
            if previous:
                query["previous"] = "true"  # a crash-looping daemon said why in its previous life
            resp = _get(session, base + urlencode(query))
            if resp.status == 200:
                texts.append(resp.text)
        probe.logs[key] = "\n".join(texts)
    more = f" (of {len(probe.pods)})" if len(probe.pods) > len(pods) else ""
    return f"read the log tails of {len(pods)} pods{more}"


def _daemon_identity(probe: ClusterProbe, session: Session) -> str:
    """The thick daemon calls the API as its pod's ServiceAccount, not with daemon-config's kubeconfig."""
    found = probe.daemonsets or []
    ds = next((d for d in found if is_thick(d)), found[0] if found else None)
    if ds is None:
        return "skipped: no multus DaemonSet"
    ns = str((ds.get("metadata") or {}).get("namespace") or "default")
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    name = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    probe.daemon_account = f"{ns}/{name}"
    if _get(session, f"/api/v1/namespaces/{quote(ns)}/serviceaccounts/{quote(name)}").status == 404:
        probe.daemon_account_missing = True
        return f"ServiceAccount {ns}/{name} does not exist"
    user = f"system:serviceaccount:{ns}:{name}"
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    denied = 0
    for need in needs("thick"):
        allowed, reason = review(session, access_review(need), user, groups)
        denied += not allowed
        probe.access.append(Access(need, allowed, user, reason))
    return f"{user}: {len(needs('thick')) - denied} of {len(needs('thick'))} permissions"
