"""NetworkAttachmentDefinitions as the cluster holds them: the CRD, and each NAD's `spec.config`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.registry import Hit, check
from multusctl.config.nad import config_problems

CRD = "network-attachment-definitions.k8s.cni.cncf.io"
CRD_URL = ("https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/master/deployments/"
           "multus-daemonset.yml")


def nad_name(nad: dict[str, Any]) -> str:
    meta = nad.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name') or '?'}"


def nad_config(nad: dict[str, Any]) -> Any:
    """`spec.config` as stored: the CRD keeps unknown fields, so `spec` itself may be anything."""
    spec = nad.get("spec")
    if not isinstance(spec, dict):
        return None if spec is None else spec
    return spec.get("config", "")


@check("nad-crd-missing")
def nad_crd_missing(snap: Any) -> Iterator[Hit]:
    if getattr(snap, "nad_crd", None) is False:
        step = snap.steps.get("nad-crd")
        yield Hit(message=f"The API does not serve k8s.cni.cncf.io/v1 network-attachment-definitions: the {CRD} "
                  "CRD is not installed. Every pod that names an additional network fails (`cannot find a "
                  "network-attachment-definition`), and pods without one still get only the primary network.",
                  fix=f"Install the CRD (it is the first object of the upstream manifest, {CRD_URL}), or "
                  "install Multus with its chart",
                  evidence={"duration_ms": step.duration_ms if step else 0.0})


@check("nad-config-invalid")
def nad_config_invalid(snap: Any) -> Iterator[Hit]:
    for nad in getattr(snap, "nads", None) or []:
        config = nad_config(nad)
        problems = config_problems(config) if config is not None else [("spec", "the NAD has no spec")]
        for where, reason in problems:
            yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: {reason}. Pods that name it stay in "
                      "ContainerCreating.",
                      fix=f"Fix spec.config of {nad_name(nad)} (kubectl edit net-attach-def -n "
                      f"{nad_name(nad).split('/')[0]} {nad_name(nad).split('/')[1]})",
                      path=nad_name(nad), field=where, evidence={"nad": nad_name(nad)})
