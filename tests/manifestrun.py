"""Run the manifest checks over objects in memory, the way `multusctl check --manifest` does."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from multusctl.analyze import analyze_manifests
from multusctl.gather.manifests import ManifestSnapshot, Obj, parse
from multusctl.gather.nodefs import NodeFS
from multusctl.layout.detect import Overrides, detect_layout
from multusctl.render import RenderOptions, render_objects
from multusctl.report.finding import Finding

UPSTREAM = Path(__file__).resolve().parent / "data" / "upstream"


def layout_of(distro: str, root: Path) -> Any:
    return detect_layout(NodeFS(str(root)), Overrides(distro=distro))


def findings(objs: list[dict[str, Any]], distro: str, root: Path) -> list[Finding]:
    snap = ManifestSnapshot([Obj("m.yaml", o) for o in objs], layout_of(distro, root))
    report = analyze_manifests(snap)
    assert not report.crashed, report.crashed
    return report.findings


def upstream(name: str, image_tag: str | None = None) -> list[dict[str, Any]]:
    """An upstream manifest's objects; `image_tag` pins its `:snapshot` images to a release."""
    text = (UPSTREAM / name).read_text()
    if image_tag:
        text = text.replace(":snapshot-thick", f":{image_tag}-thick").replace(":snapshot", f":{image_tag}")
    return [o.doc for o in parse(name, text)]


def rendered(root: Path, **kw: Any) -> list[dict[str, Any]]:
    return copy.deepcopy(render_objects(RenderOptions(root=str(root), **kw)))


def ds(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == "DaemonSet")


def pod_spec(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return ds(objs)["spec"]["template"]["spec"]


def container(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return pod_spec(objs)["containers"][0]


def configmap(objs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == "ConfigMap")
