"""readiness-file-missing: the readinessindicatorfile Multus waits for does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.mounts import _exists, _is_abs, _live_caveat, _thin
from multusctl.checks.registry import Hit, check
from multusctl.checks.thin_paths import thin_pod_paths
from multusctl.gather.snapshot import NodeSnapshot

# ---------------------------------------------------------------------------------------------------
# readiness indicator file


def _readiness(snap: NodeSnapshot) -> tuple[str, str, str, str | None] | None:
    """(source file, field, value as written, host path or None when no mount shows it).

    Thick: the daemon waits for the file named in its own daemon-config.json (it also watches it when it
    generates the multus config), and delegates wait for the one of the per-request merge."""
    eff = snap.effective
    if eff is None:
        return None
    own = snap.daemon_settings if eff.mode == "thick" else None
    s = (own.get("readinessindicatorfile") if own else None) or eff.get("readinessindicatorfile")
    if s is None or not s.text:
        return None
    v = s.text
    if eff.mode == "thin":
        return s.source, s.field, v, v
    return s.source, s.field, v, snap.thick_paths.to_host(v) if v.startswith("/") else None


@check("readiness-file-missing")
def readiness_file_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    r = _readiness(snap)
    if r is None:
        return
    src, fld, value, host = r
    thin = _thin(snap) is not None
    if thin and any(pp.key == "readinessindicatorfile" for pp in thin_pod_paths(snap)):
        return  # a pod path: the check this one defers_to names the cause and the host path
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
            return  # a host path the pod cannot see: the check this one defers_to says so
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
