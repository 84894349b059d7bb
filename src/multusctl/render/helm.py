"""Values for the rke2-multus chart (rancher/rke2-charts packages/rke2-multus), the install k3s documents."""

from __future__ import annotations

from typing import Any

from multusctl.layout import distros as D
from multusctl.layout.model import Layout
from multusctl.render import daemonset as DS
from multusctl.render import volumes as V
from multusctl.render.options import RenderError, Version


def _image(ref: str) -> dict[str, str]:
    """repository + tag: the chart joins them as `repo:tag`, so a digest reference cannot be said."""
    if "@" in ref:
        raise RenderError(f"--image {ref}: the rke2-multus chart takes repository and tag, not a digest")
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon <= slash:
        return {"repository": ref, "tag": "latest"}
    return {"repository": ref[:colon], "tag": ref[colon + 1:]}


def values(layout: Layout, mode: str, version: Version, image: str) -> dict[str, Any]:
    if mode == "thin":
        if not version.at_least(1):
            raise RenderError(f"--format helm-values: the chart runs the thin entrypoint in auto mode, which "
                              f"{version.text} nests into its own config (FACTS.md §7 #20); use --format manifests "
                              "(a static config) or --multus-version v4.1.0 or later")
        conf = layout.conf_dir
        return {
            "image": _image(image),
            "config": {"cni_conf": {
                "confDir": conf, "binDir": V.bin_dir(layout), "multusConfFile": "auto",
                "multusAutoconfigDir": conf, "kubeconfig": layout.multus_kubeconfig,
                # the entrypoint's watch loop, which re-writes the kubeconfig when the token rotates
                "cleanupConfigOnExit": True,
            }},
            "pod": {"resources": {"enabled": True, "multus": DS.THIN_RESOURCES}},
        }
    if layout.conf_dir != D.STANDARD_CONF_DIR or V.bin_dir(layout) != D.STANDARD_BIN_DIR:
        raise RenderError(f"--format helm-values --mode thick: the chart's thick DaemonSet hard-codes the host "
                          f"paths {D.STANDARD_CONF_DIR} and {D.STANDARD_BIN_DIR}, but {layout.distro} uses "
                          f"{layout.conf_dir} and {V.bin_dir(layout)}; use --format manifests")
    return {
        "thickPlugin": {"enabled": True, "image": _image(image)},
        "config": {"daemon_conf": DS.daemon_config(layout)},
        "pod": {"resources": {"enabled": True, "multus": DS.THICK_RESOURCES}},
    }
