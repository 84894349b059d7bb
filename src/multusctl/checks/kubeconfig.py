"""Checks that the kubeconfig Multus uses exists, loads with client-go, is private and complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.kubeconfig_facts import (
    CREATE,
    POD_SA_DIRS,
    RefPath,
    _create_hint,
    _ref_path,
    _server_suggestion,
    _thick,
    _thick_aware,
    _where,
    bracketed_non_ipv6,
    with_kubeconfig,
)
from multusctl.checks.registry import Hit, check
from multusctl.config.credentials import permission_problems
from multusctl.config.kubeconfig import FileRef, Kubeconfig
from multusctl.gather.nodefs import path_problem
from multusctl.gather.snapshot import KubeconfigFile, NodeSnapshot

# ---------------------------------------------------------------------------------------------- checks


@check("kubeconfig-unset")
def kubeconfig_unset(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin":
        return
    # Go's encoding/json matches keys case-insensitively, so `kubeConfig` counts (MultusConfig does that).
    value = m.multus.kubeconfig
    if value and value.strip():
        return
    why = " Its value is empty, which multus treats as unset." if value is not None else ""
    target = snap.layout.multus_kubeconfig
    # pkg/types/conf.go LoadNetConf (v4.3.0:506-522) parses `delegates` only when clusterNetwork is unset, and
    # pkg/k8sclient GetDefaultNetworks (v4.3.0:657-670) with no API client and no delegates returns
    # "must have either Kubernetes config or delegates": with clusterNetwork set (a name or a path alike, and
    # defaultNetworks with it) every ADD, CHECK and DEL fails; nothing falls back to the delegates.
    cluster = m.multus.get("clusterNetwork")
    ev: dict[str, object] = {"mode": "thin", "suggested": target}
    if isinstance(cluster, str) and cluster.strip():
        ev["clusterNetwork"] = cluster
        kind = "a path" if "/" in cluster else "a name (a NetworkAttachmentDefinition or a file in confDir)"
        effect = (f" It also sets \"clusterNetwork\": \"{cluster}\" ({kind}): multus resolves clusterNetwork and "
                  "defaultNetworks only through its API client (pkg/k8sclient GetDefaultNetworks), and with "
                  "clusterNetwork set it ignores \"delegates\" (pkg/types LoadNetConf), so with no client every "
                  "pod ADD (and DEL) on this node fails with `failed to get clusterNetwork/defaultNetworks: "
                  "GetDefaultNetworks: must have either Kubernetes config or delegates`; pods do not fall back "
                  "to the primary network, they do not start.")
    else:
        effect = (" It ignores every pod's k8s.v1.cni.cncf.io/networks annotation (NADs) and pods only get "
                  "the cluster network.")
    yield Hit(
        message=f"{m.name} is a thin config (type: multus) without a \"kubeconfig\".{why} The thin plugin runs "
        "on the host, where the container runtime does not set KUBERNETES_SERVICE_HOST, so multus has no API "
        f"client.{effect}",
        fix=f"Run `{CREATE}` (writes {target}) and add \"kubeconfig\": \"{target}\" to {m.path}."
        + _create_hint(snap, target),
        path=m.path,
        field="kubeconfig",
        evidence=ev,
    )


@check("kubeconfig-missing")
def kubeconfig_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is not None:
        return
    target = snap.layout.multus_kubeconfig
    by_path, by_field = kf.referenced_by.rsplit(" ", 1) if " " in kf.referenced_by else (kf.referenced_by, "")
    if _thick(snap):
        what = (f"The thick daemon-config names kubeconfig {kf.referenced_as}, which the daemon pod sees at host "
                f"path {kf.path} ({snap.thick_paths.source}); no file is there.")
    elif problem := path_problem(kf.referenced_as):
        what = f"The thin config names kubeconfig {kf.referenced_as!r}, which {problem}."
    else:
        what = f"The thin config names kubeconfig {kf.referenced_as}, which does not exist on this node."
    exists_elsewhere = target != kf.path and snap.fs.is_file(target)
    if exists_elsewhere and not _thick(snap):
        fix = f"Set \"kubeconfig\": \"{target}\" in {by_path} (a kubeconfig exists there)."
    else:
        fix = f"Run `{CREATE}` to write a ServiceAccount kubeconfig to {kf.path}"
        fix += "." if kf.path == target or _thick(snap) else f", or write it to {target} and point {by_path} at it."
        fix += _create_hint(snap, kf.path)
    yield _thick_aware(snap, Hit(
        message=f"{what} Multus fails every pod ADD with \"GetK8sClient: failed to get context for the kubeconfig "
        f"{kf.referenced_as}: ... no such file or directory\" (MC#564).",
        fix=fix,
        path=kf.path,
        field=by_field or "kubeconfig",
        evidence={"referenced_as": kf.referenced_as, "referenced_by": by_path, "host_path": kf.path,
                  "layout_kubeconfig": target, "layout_kubeconfig_exists": snap.fs.is_file(target)},
    ))


@check("kubeconfig-invalid")
def kubeconfig_invalid(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is None:
        return
    breaks = ("Multus fails every pod ADD with \"GetK8sClient: failed to get context for the kubeconfig "
              f"{kf.referenced_as}\".")
    if kf.error is not None or kf.config is None:
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)} cannot be read as a kubeconfig: {kf.error or 'unreadable'}. {breaks}",
            fix=f"Recreate it with `{CREATE}` (or `kubectl --kubeconfig {kf.path} config view` to see what "
            "client-go makes of it).",
            path=kf.path,
            field=None,
            evidence={"error": kf.error or "unreadable"},
        ))
        return
    kc = kf.config
    for fld, reason in kc.problems:
        if fld.endswith(".server") and (br := bracketed_non_ipv6(kc.server)):
            yield _thick_aware(snap, _bracketed_hit(kf, fld, kc.server_shown, *br))
            continue
        anonymous = "anonymously" in reason
        why = ("Multus's API calls are then unauthenticated and fail (Unauthorized / forbidden)." if anonymous
               else breaks)
        fix = _invalid_fix(snap, kf, kc, fld, reason)
        yield _thick_aware(snap, Hit(
            message=f"{_where(kf)}: {reason}. {why}",
            fix=fix,
            path=kf.path,
            field=fld,
            evidence={"problem": reason, "current_context": kc.current_context,
                      "contexts": _names(kc.raw, "contexts"), "clusters": _names(kc.raw, "clusters"),
                      "users": _names(kc.raw, "users")},
        ))


def _bracketed_hit(kf: KubeconfigFile, fld: str, server: str, host: str, fixed: str) -> Hit:
    return Hit(
        message=f"{_where(kf)}: server {server} puts {host}, which is not an IPv6 address, in square brackets "
        "(the thin entrypoint wrote every address that way until multus-cni#1451). A multus binary built with "
        "Go 1.24.8 / 1.25.2 or later rejects it (CVE-2025-47912) and fails every pod ADD with \"error getting "
        "k8s client: host must be a URL or a host:port pair\"; older builds accept it. Which Go built the "
        "binary on this node cannot be read offline, so this breaks at the latest when multus is upgraded.",
        fix=f"Set server: {fixed} in {kf.path}. If a multus DaemonSet writes this file, it puts the brackets "
        "back on its next start until its image is one whose entrypoint no longer adds them.",
        path=kf.path,
        field=fld,
        evidence={"server": server, "host": host, "suggested": fixed},
        severity="warning",
    )


def _names(raw: dict[str, Any], key: str) -> list[str]:
    items = raw.get(key)
    if not isinstance(items, list):
        return []
    return [str(i["name"]) for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)][:20]


def _invalid_fix(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig, fld: str, reason: str) -> str:
    if fld == "current-context":
        contexts = _names(kc.raw, "contexts")
        if len(contexts) == 1:
            return f"Set `current-context: {contexts[0]}` in {kf.path} (or `kubectl --kubeconfig {kf.path} " \
                   f"config use-context {contexts[0]}`)."
        return f"Set current-context to one of the contexts in {kf.path}, or recreate it with `{CREATE}`."
    if fld.endswith(".server"):
        return f"Set server to a reachable API address, e.g. {_server_suggestion(snap)}, or recreate the file " \
               f"with `{CREATE}` (which never writes an empty host or port)."
    return f"Recreate {kf.path} with `{CREATE}`, or fix the entry named in {fld}."


@check("kubeconfig-permissions")
def kubeconfig_permissions(snap: NodeSnapshot) -> Iterator[Hit]:
    kf = snap.kubeconfig
    if kf is None or kf.info is None or kf.info.kind != "file":
        return
    mode, uid = kf.info.mode, kf.info.uid
    problems = permission_problems(mode, uid)
    if not problems:
        return
    shown = "The kubeconfig" if kf.info.path == kf.path else f"The kubeconfig (a link to {kf.info.path})"
    yield Hit(
        message=f"{shown} has mode {mode:04o}, owner uid {uid}: " + "; ".join(problems) + ".",
        fix=f"chown root:root {kf.info.path} && chmod 600 {kf.info.path}",
        path=kf.path,
        field=None,
        # `kubeconfig create` rewrites the file mode 0600, owner root: it fixes this too (report/fixes.py).
        evidence={"mode": f"{mode:04o}", "uid": uid, "gid": kf.info.gid,
                  "fixed_by": [f"chown root:root {kf.info.path} && chmod 600 {kf.info.path}", CREATE]},
        severity="error" if mode & 0o044 else None,
    )


@check("kubeconfig-file-ref-missing")
@with_kubeconfig
def kubeconfig_file_ref_missing(snap: NodeSnapshot, kf: KubeconfigFile, kc: Kubeconfig) -> Iterator[Hit]:
    for ref in kc.file_refs():
        path = _ref_path(snap, kf, ref.value)
        if path.host is not None and snap.fs.is_file(path.host):
            continue
        if _thick(snap) and path.resolved.startswith(POD_SA_DIRS):
            continue  # the daemon pod's own projected ServiceAccount volume: not on the host, and fine
        yield _thick_aware(snap, _file_ref_hit(snap, kf, ref, path))


def _file_ref_hit(snap: NodeSnapshot, kf: KubeconfigFile, ref: FileRef, path: RefPath) -> Hit:
    shown = path.resolved if path.resolved == ref.value else f"{ref.value} (-> {path.resolved})"
    if path.host is None:
        state = f"is not under any mount of the daemon pod ({snap.thick_paths.source})"
    elif snap.fs.exists(path.host):
        state = f"is not a regular file (host path {path.host})"
    else:
        state = "does not exist" + (f" (host path {path.host})" if path.host != path.resolved else "")
    effect = {
        "certificate-authority": "client-go rejects the kubeconfig (\"unable to read certificate-authority\")",
        "client-certificate": "client-go rejects the kubeconfig (\"unable to read client-cert\")",
        "client-key": "client-go rejects the kubeconfig (\"unable to read client-key\")",
        "tokenFile": "client-go cannot read the token, so every API call fails",
    }[ref.key]
    data_key = {"certificate-authority": "certificate-authority-data", "client-certificate": "client-certificate-data",
                "client-key": "client-key-data"}.get(ref.key)
    alt = f" or embed it as {data_key}" if data_key else ""
    return Hit(
        message=f"{_where(kf)} names {ref.key} {shown}, which {state}: {effect} and Multus fails every pod ADD.",
        fix=f"Restore the file at {path.host or path.resolved}{alt}, or recreate the kubeconfig with `{CREATE}` "
        "(self-contained: certificate-authority-data and an inline token).",
        path=kf.path,
        field=ref.field,
        evidence={"written": ref.value, "resolved": path.resolved, "host_path": path.host},
    )
