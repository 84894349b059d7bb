"""readiness-file-missing: the readinessindicatorfile Multus waits for does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.mounts import _daemon_raw, _exists, _field, _is_abs, _live_caveat, _thick, _thin
from multusctl.checks.registry import Hit, check
from multusctl.checks.thin_paths import thin_pod_paths
from multusctl.gather.snapshot import NodeSnapshot

# ---------------------------------------------------------------------------------------------------
# readiness indicator file


def _readiness(snap: NodeSnapshot) -> tuple[str, str, str, str | None] | None:
    """(source file, field, value as written, host path or None when no mount shows it)."""
    t = _thin(snap)
    if t is not None:
        conf, mc = t
        v = mc.get("readinessindicatorfile")
        if not isinstance(v, str) or not v:
            return None
        return conf.path, _field(mc, "readinessindicatorfile"), v, v
    t = _thick(snap)
    if t is None:
        return None
    conf, mc = t
    raw = _daemon_raw(snap)
    if raw is not None and isinstance(raw.get("readinessindicatorfile"), str) and raw["readinessindicatorfile"]:
        v = raw["readinessindicatorfile"]
        src, fld = (snap.daemon_config.path if snap.daemon_config else ""), "readinessindicatorfile"
    else:
        v = mc.get("readinessindicatorfile")
        if not isinstance(v, str) or not v:
            return None
        src, fld = conf.path, _field(mc, "readinessindicatorfile")
    return src, fld, v, snap.thick_paths.to_host(v) if v.startswith("/") else None


@check("readiness-file-missing", "warning", "The readiness indicator file does not exist")
def readiness_file_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    r = _readiness(snap)
    if r is None:
        return
    src, fld, value, host = r
    thin = _thin(snap) is not None
    if thin and any(pp.key == "readinessindicatorfile" for pp in thin_pod_paths(snap)):
        return  # thin-pod-path names the cause and the host path
    if not _is_abs(value):
        yield Hit(
            message=f'"{fld}": "{value}" in {src} is not an absolute path: multus resolves it against its '
            "working directory, so the file is practically never found and every ADD waits 45 s and fails.",
            fix=f'Set "{fld}" to the absolute path of the primary CNI\'s ready file (flannel on k3s: '
            '/run/flannel/subnet.env) or remove it.',
            path=src, field=fld, evidence={"value": value},
        )
        return
    if host is None:
        if _exists(snap, value):
            return  # a host path the pod cannot see: thick-unmounted-path says so
        check_path = value
    else:
        check_path = host
    if _exists(snap, check_path):
        return
    seen_as = "" if check_path == value else f" (the daemon pod's {value} is the host's {check_path})"
    effect = ("every pod ADD waits 45 s for it and then fails (`still waiting for readinessindicatorfile "
              f"@ {value}`, MC#402)" if thin else
              "the daemon waits 45 s for it at start-up and then exits: it crash-loops, and every pod ADD "
              "fails on the missing socket")
    yield Hit(
        message=f'"{fld}": "{value}" in {src}: {check_path} does not exist{seen_as}, so {effect}. The '
        f"primary CNI writes it once it is ready; it is missing when the primary network is down or the "
        f"path is wrong.{_live_caveat(snap, check_path)}",
        fix=f"Check the primary CNI is running on this node; if {check_path} is not the file it writes, set "
        f'"{fld}" to the right path (flannel: /run/flannel/subnet.env on the host), or remove the key.',
        path=src, field=fld,
        evidence={"value": value, "host_path": check_path, "mode": "thin" if thin else "thick"},
    )
