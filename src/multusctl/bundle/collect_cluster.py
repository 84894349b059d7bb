"""The cluster part of the bundle, with the admin connection: the multus DaemonSets, their pods and log tails,
the multus ConfigMaps (and the thick daemon-config), every NAD, the pods stuck in ContainerCreating with their
events, and versions. Never a Secret: no call here lists or reads one.

A handful of list calls whatever the cluster's size (as doctor's admin reads), plus one log call per multus
container (capped at MAX_LOG_PODS pods). Each section records its own failure and the others go on; when the
API does not answer at all, every section says so once instead of waiting for each call to time out.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multusctl import __version__
from multusctl.bundle.model import Section
from multusctl.doctor.admin import is_check_run

if TYPE_CHECKING:
    from multusctl.provision.api import Api

Obj = dict[str, Any]

LOG_TAIL = 500
MAX_LOG_PODS = 50  # unhealthy pods first; a log per pod of a 5,000-node DaemonSet is no ticket attachment
MAX_STUCK_PODS = 200
NAD = ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition")
SECTIONS = ("daemonsets", "pods", "configmaps", "nads", "stuck-pods", "logs", "versions")
TITLES = {
    "daemonsets": "multus DaemonSets",
    "pods": "multus pods",
    "configmaps": "multus ConfigMaps (and the thick daemon-config)",
    "nads": "NetworkAttachmentDefinitions",
    "stuck-pods": "pods stuck in ContainerCreating, with their events",
    "logs": f"log tails of the multus pods (last {LOG_TAIL} lines, current and previous container)",
    "versions": "versions (multusctl, API server, nodes, multus images)",
}


@dataclass
class Seen:
    """What one section found that a later one needs (the DaemonSets -> their pods -> their logs)."""

    daemonsets: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)
    server_version: Obj | None = None


def trimmed(obj: Obj) -> Obj:
    """`obj` without managedFields (bulk no reader of a ticket needs) and the last-applied annotation (a
    second copy of the spec)."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if annotations or "annotations" in meta:
        meta["annotations"] = annotations
    return {**obj, "metadata": meta}


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}".lstrip("/")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_part(text: str) -> str:
    """A path component from an object name: nothing that could climb out of the bundle or hide."""
    part = _UNSAFE.sub("_", text)[:120]
    return part if part.strip(".") else "_"


def _template_spec(ds: Obj) -> Obj:
    return ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}


def cluster_sections(api: Api | None, api_error: str | None, namespace: str,
                     progress: Callable[[Section], None] = lambda s: None) -> list[Section]:
    """Every cluster section, in order; without `api` (no admin kubeconfig) or when the API does not answer,
    each one failed with the reason."""
    from multusctl.provision.api import ApiFailure

    if api is None:
        return [_failed(name, f"no admin connection: {api_error}") for name in SECTIONS]
    seen = Seen()
    try:
        seen.server_version = json.loads(api.get_text("/version") or "{}")
    except ApiFailure as exc:
        if exc.unreachable or exc.kind in ("tls", "unauthorized", "config"):
            return [_failed(name, f"the cluster is not reachable: {exc}") for name in SECTIONS]
        seen.server_version = {"error": str(exc)}
    except ValueError:
        seen.server_version = {"error": "/version did not answer JSON"}
    out = []
    for name, collect in (("daemonsets", _daemonsets), ("pods", _pods), ("configmaps", _configmaps),
                          ("nads", _nads), ("stuck-pods", _stuck_pods), ("logs", _logs), ("versions", _versions)):
        section = Section(name, TITLES[name])
        try:
            collect(api, namespace, seen, section)
        except ApiFailure as exc:
            section.errors.append(str(exc))
        progress(section)
        out.append(section)
    return out


def _failed(name: str, why: str) -> Section:
    return Section(name, TITLES[name], errors=[why])


def _daemonsets(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    from multusctl.doctor.admin import is_multus

    items, _ = api.list_objects("apps/v1", "DaemonSet")
    seen.daemonsets = [d for d in items if is_multus(d)]  # the name or an image says multus, as doctor
    if not seen.daemonsets:
        section.notes.append("no multus DaemonSet in any namespace (name or image containing 'multus')")
    section.add("cluster/daemonsets.json", [trimmed(d) for d in seen.daemonsets])


def _pods(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    from multusctl.provision.api import ApiFailure

    for ds in seen.daemonsets:
        meta = ds.get("metadata") or {}
        labels = ((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not labels:
            section.notes.append(f"DaemonSet {_name(ds)} has no matchLabels selector: its pods are not listed")
            continue
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        try:
            pods, _ = api.list_objects("v1", "Pod", str(meta.get("namespace") or "default"), labels=selector)
        except ApiFailure as exc:
            section.errors.append(f"pods of {_name(ds)}: {exc}")
            continue
        seen.pods.extend(pods)
    section.add("cluster/multus-pods.json", [trimmed(p) for p in seen.pods])


def _configmaps(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    """ConfigMaps named *multus* in the multus namespaces, and whatever ConfigMap a multus DaemonSet mounts
    (the thick daemon-config is often called something else, e.g. `multus-daemon-config`, `rke2-multus`)."""
    from multusctl.provision.api import ApiFailure

    mounted: dict[str, set[str]] = {}
    for ds in seen.daemonsets:
        ns = str((ds.get("metadata") or {}).get("namespace") or "default")
        for vol in _template_spec(ds).get("volumes") or []:
            cm = (vol or {}).get("configMap") or {}
            if cm.get("name"):
                mounted.setdefault(ns, set()).add(str(cm["name"]))
    found: list[Obj] = []
    for ns in sorted({namespace, *mounted}):
        try:
            items, _ = api.list_objects("v1", "ConfigMap", ns)
        except ApiFailure as exc:
            section.errors.append(f"ConfigMaps in {ns}: {exc}")
            continue
        for cm in items:
            name = str((cm.get("metadata") or {}).get("name") or "")
            if ("multus" in name and not is_check_run(cm)) or name in mounted.get(ns, set()):
                found.append(trimmed(cm))
    missing = sorted(f"{ns}/{n}" for ns, names in mounted.items() for n in names
                     if not any(_name(c) == f"{ns}/{n}" for c in found))
    if missing:
        section.notes.append(f"mounted by a multus DaemonSet but not found: {', '.join(missing)}")
    section.add("cluster/configmaps.json", found)


def _nads(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    from multusctl.provision.api import ApiFailure

    try:
        items, _ = api.list_objects(*NAD)
    except ApiFailure as exc:
        if exc.code == 404:
            section.notes.append("the NetworkAttachmentDefinition CRD is not installed")
            section.add("cluster/network-attachment-definitions.json", [])
            return
        raise
    section.add("cluster/network-attachment-definitions.json", [trimmed(n) for n in items])


def stuck(pod: Obj) -> bool:
    """A pod whose (init) container waits with reason ContainerCreating: the sandbox, hence the CNI ADD,
    has not finished (what a broken Multus looks like from the outside)."""
    status = pod.get("status") or {}
    return any((((s or {}).get("state") or {}).get("waiting") or {}).get("reason") == "ContainerCreating"
               for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []))


def _stuck_pods(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    """The stuck pods of every namespace (one list of Pending pods), and their events: one list of pod events
    per namespace that has such pods, matched by involvedObject.uid (a name is reused, a uid is not)."""
    from multusctl.provision.api import ApiFailure

    pending, _ = api.list_objects("v1", "Pod", fields="status.phase=Pending")
    pods = [p for p in pending if stuck(p)]
    if len(pods) > MAX_STUCK_PODS:
        section.notes.append(f"{len(pods)} pods stuck in ContainerCreating; the first {MAX_STUCK_PODS} are kept")
        pods = pods[:MAX_STUCK_PODS]
    uids = {str((p.get("metadata") or {}).get("uid")): _name(p) for p in pods}
    events: dict[str, list[Obj]] = {name: [] for name in uids.values()}
    for ns in sorted({str((p.get("metadata") or {}).get("namespace")) for p in pods}):
        try:
            items, _ = api.list_objects("v1", "Event", ns, fields="involvedObject.kind=Pod")
        except ApiFailure as exc:
            section.errors.append(f"events in {ns}: {exc}")
            continue
        for ev in items:
            uid = str((ev.get("involvedObject") or {}).get("uid") or "")
            if uid in uids:
                events[uids[uid]].append(trimmed(ev))
    section.add("cluster/stuck-pods.json", [trimmed(p) for p in pods])
    section.add("cluster/stuck-pod-events.json", events)
    if not pods:
        section.notes.append("no pod is stuck in ContainerCreating")


def _unhealthy(pod: Obj) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return not statuses or any(not (s or {}).get("ready") for s in statuses)


def _logs(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    """The last LOG_TAIL lines of every container of each multus pod, and of the previous container when it
    restarted (a crash-looping daemon said why in its previous life)."""
    from multusctl.provision.api import ApiFailure

    pods = sorted(seen.pods, key=lambda p: not _unhealthy(p))[:MAX_LOG_PODS]
    if len(seen.pods) > len(pods):
        section.notes.append(f"logs of {len(pods)} of {len(seen.pods)} multus pods (unhealthy ones first)")
    if not pods:
        section.notes.append("no multus pods, no logs")
    for pod in pods:
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name") or "")
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        restarts = {str((s or {}).get("name")): int((s or {}).get("restartCount") or 0)
                    for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])}
        path = f"/api/v1/namespaces/{ns}/pods/{name}/log"
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            container = str((c or {}).get("name") or "")
            base = f"logs/{safe_part(ns)}/{safe_part(name)}/{safe_part(container)}"
            for previous in (False, True):
                if previous and not restarts.get(container):
                    continue  # never restarted: there is no previous container to ask for
                query = {"container": container, "tailLines": str(LOG_TAIL)} | ({"previous": "true"} if previous
                                                                                 else {})
                try:
                    text = api.get_text(path, query)
                except ApiFailure as exc:
                    section.errors.append(f"log of {ns}/{name} {container}{' (previous)' if previous else ''}: "
                                          f"{exc}")
                    continue
                section.add(f"{base}{'.previous' if previous else ''}.log", text or "")


def image_tag(image: str) -> str:
    """The tag (or digest) of an image reference; "latest" when it names none, as the runtime assumes."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _versions(api: Api, namespace: str, seen: Seen, section: Section) -> None:
    from multusctl.provision.api import ApiFailure

    doc: Obj = {"multusctl": __version__, "python": sys.version.split()[0], "server": seen.server_version}
    try:
        nodes, _ = api.list_objects("v1", "Node")
        doc["nodes"] = [{"name": (n.get("metadata") or {}).get("name"),
                         **{k: v for k, v in ((n.get("status") or {}).get("nodeInfo") or {}).items()
                            if k in ("kubeletVersion", "containerRuntimeVersion", "kernelVersion", "osImage",
                                     "architecture", "kubeProxyVersion")}} for n in nodes]
    except ApiFailure as exc:
        section.errors.append(f"nodes: {exc}")
        doc["nodes"] = None
    doc["multus_images"] = [
        {"daemonset": _name(ds), "container": str((c or {}).get("name") or ""), "image": str((c or {}).get("image")),
         "tag": image_tag(str((c or {}).get("image") or ""))}
        for ds in seen.daemonsets
        for c in (_template_spec(ds).get("initContainers") or []) + (_template_spec(ds).get("containers") or [])]
    section.add("versions.json", doc)
