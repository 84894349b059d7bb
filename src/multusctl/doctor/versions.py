"""Node findings that depend on the multus release, settled by the images of the multus DaemonSets doctor read.

On the node the version cannot be read, so such a check says "on multus vX to vY" as a warning. doctor knows the
DaemonSets' images: when every one names a release, the finding becomes an error naming the DaemonSet that runs
an affected release, or goes away when none does. A `snapshot`/`latest` tag or a digest settles nothing.
"""

from __future__ import annotations

from typing import Any

from multusctl import records
from multusctl.checks.manifest_model import multus_daemonsets
from multusctl.gather.manifests import ManifestSnapshot, Obj
from multusctl.layout.model import Layout
from multusctl.render.options import Version
from multusctl.report.finding import Finding

# finding id -> the releases it is about, inclusive
AFFECTED: dict[str, tuple[Version, Version]] = {
    "conflist-del-lossy": (Version(2, 1), Version(3, 0)),  # MC#1449: PR #1419 (v4.2.1) to the fix after v4.3.0
}


def releases(daemonsets: list[dict[str, Any]]) -> list[tuple[str, str, Version | None]] | None:
    """(namespace/name, image, release or None) of each multus DaemonSet, read as `check --manifest` reads one
    (its multus container by entrypoint or image); None when one of them shows no multus container."""
    # Reading a DaemonSet's containers takes no path from the node: a default layout stands in.
    snap = ManifestSnapshot([Obj("cluster", d) for d in daemonsets if isinstance(d, dict)], Layout())
    found = list(multus_daemonsets(snap))
    if len(found) != len(daemonsets):
        return None
    out = []
    for ds in found:
        image = ds.main.spec.get("image")
        out.append((f"{ds.obj.namespace}/{ds.obj.name}", image if isinstance(image, str) else "", ds.version))
    return out


def settle(findings: list[Finding], daemonsets: list[dict[str, Any]] | None) -> list[Finding]:
    """`findings` with each release-dependent one settled where the DaemonSets' images allow."""
    known = releases(daemonsets or [])
    if not known or any(v is None for _, _, v in known):
        return findings
    out = []
    for f in findings:
        span = AFFECTED.get(f.id)
        if span is None:
            out.append(f)
            continue
        low, high = span
        hit = [(name, image, v) for name, image, v in known
               if v is not None and v.at_least(low.minor, low.patch) and not v.at_least(high.minor, high.patch + 1)]
        if not hit:
            continue  # every multus DaemonSet runs a release the rule is not about
        name, image, v = hit[0]
        assert v is not None
        out.append(records.replace(f, severity="error", message=f"{f.message} Confirmed: the DaemonSet {name} "
                                   f"runs {image} ({v.text}).",
                                   evidence={**f.evidence, "daemonset": name, "image": image}))
    return out
