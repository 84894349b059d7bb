"""Manifest checks on the multus pod: token refresh, memory limit, the ServiceAccount token mount."""

from __future__ import annotations

import re
from collections.abc import Iterator

from multusctl.checks.manifest_model import multus_daemonsets
from multusctl.checks.registry import Hit, check
from multusctl.gather.manifests import ManifestSnapshot

MIN_THICK_MEMORY = 100 * 1024 * 1024  # MC#1346: the daemon is OOM-killed at upstream's 50Mi
_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")
_FACTOR = {None: 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity_bytes(value: object) -> float | None:
    """A Kubernetes quantity (`50Mi`, `128M`, `1e8`, a number) in bytes; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    try:
        return float(m.group(1)) * _FACTOR[m.group(2)]
    except ValueError:
        return None


@check("manifest-token-refresh-off")
def token_refresh_off(snap: ManifestSnapshot) -> Iterator[Hit]:
    for ds in multus_daemonsets(snap):
        if ds.mode != "thin" or ds.static_conf_path is not None:
            continue  # a static config: the entrypoint writes no kubeconfig, so it has none to refresh
        cleanup = ds.flags.get("cleanup-config-on-exit") == "true"
        skip = ds.flags.get("skip-config-watch", "false") != "false"
        if cleanup and not skip:
            continue
        why = "--skip-config-watch is set" if skip else "--cleanup-config-on-exit=true is not set"
        yield Hit(message=(f"{why}: the thin entrypoint writes the kubeconfig once and never re-writes it when the "
                           "projected token rotates, so multus starts failing with `Unauthorized` when the token "
                           "expires (MC#852, rke2#9313)"),
                  fix="pass --cleanup-config-on-exit=true and drop --skip-config-watch",
                  path=ds.obj.source, field=ds.obj.where(ds.main.field(".args")),
                  evidence={"cleanup_config_on_exit": cleanup, "skip_config_watch": skip})


@check("manifest-memory-limit-low")
def memory_limit_low(snap: ManifestSnapshot) -> Iterator[Hit]:
    for ds in multus_daemonsets(snap):
        if ds.mode != "thick":
            continue
        limits = ds.main.spec.get("resources")
        raw = limits.get("limits", {}).get("memory") if isinstance(limits, dict) and isinstance(
            limits.get("limits"), dict) else None
        n = quantity_bytes(raw)
        if n is None or n >= MIN_THICK_MEMORY:
            continue
        yield Hit(message=(f"the thick daemon's memory limit is {raw}: it serves every pod ADD/DEL of the node "
                           "and is OOM-killed under load, after which every ADD fails with `connection refused` "
                           "on multus.sock (MC#1346)"),
                  fix="set resources.limits.memory to at least 100Mi (multusctl render uses 512Mi)",
                  path=ds.obj.source, field=ds.obj.where(ds.main.field(".resources.limits.memory")),
                  evidence={"limit": raw, "bytes": int(n)})


@check("manifest-sa-token-not-mounted")
def sa_token_not_mounted(snap: ManifestSnapshot) -> Iterator[Hit]:
    for ds in multus_daemonsets(snap):
        pod = ds.pod_spec.get("automountServiceAccountToken")
        sa_name = ds.pod_spec.get("serviceAccountName") or ds.pod_spec.get("serviceAccount") or "default"
        sa = next((o for o in snap.of_kind("ServiceAccount") if o.name == sa_name
                   and o.namespace in (None, ds.obj.namespace)), None)
        sa_off = sa is not None and sa.doc.get("automountServiceAccountToken") is False
        if pod is False or (pod is None and sa_off):
            where = ("the pod template" if pod is False else f"ServiceAccount {sa_name}")
            yield Hit(message=(f"automountServiceAccountToken: false on {where}: the multus pod has no token and "
                               "CA (`file .../serviceaccount/ca.crt not found`), so "
                               + ("the thin entrypoint cannot write the kubeconfig" if ds.mode == "thin" else
                                  "the thick daemon has no API client") + " (FACTS.md §7 #18)"),
                      fix="set automountServiceAccountToken: true on the multus pod template",
                      path=ds.obj.source, field=ds.obj.where("spec.template.spec.automountServiceAccountToken")
                      if pod is False else sa.where("automountServiceAccountToken") if sa else None,
                      evidence={"service_account": sa_name})
