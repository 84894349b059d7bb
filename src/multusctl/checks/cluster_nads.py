"""NetworkAttachmentDefinitions as the cluster holds them: the CRD, and each NAD's `spec.config`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from multusctl.checks.registry import Hit, check
from multusctl.config.nad import config_problems

CRD = "network-attachment-definitions.k8s.cni.cncf.io"
# metadata.name of a NAD: a DNS-1123 subdomain (the API server refuses others; files may still hold them), and
# multus looks NADs up by a DNS-1123 label from the pod annotation (config/annotation.py).
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
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


def fix_for(nad: dict[str, Any]) -> str:
    ns, _, name = nad_name(nad).partition("/")
    return f"kubectl edit net-attach-def -n {ns} {name}"


def _name_problems(nad: dict[str, Any]) -> list[tuple[str, str]]:
    meta = nad.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        return [("metadata.name", "the NAD has no metadata.name")]
    if len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        return [("metadata.name", f"metadata.name {name!r} is not a DNS-1123 name (lower case letters, digits, "
                 "`-`, `.`; the API server refuses it)")]
    if "." in name or len(name) > 63:
        return [("metadata.name", f"metadata.name {name!r} is not a DNS-1123 label: the pod annotation cannot "
                 "name it (multus: `one or more items did not match comma-delimited format`)")]
    return []


def _empty_problems(nad: dict[str, Any], snap: Any) -> list[tuple[str, str]]:
    """An empty spec.config: multus reads the file of its confDir whose `name` is the NAD's."""
    networks = getattr(snap, "conf_networks", None)
    name = nad_name(nad).partition("/")[2]
    if networks is None or name in networks:
        return []
    conf_dir = getattr(snap, "conf_dir", "/etc/cni/multus/net.d")
    return [("spec.config", f"spec.config is empty and no file in multus' confDir {conf_dir} has the network name "
             f"{name!r} (multus: `no network available in the name {name} in cni dir {conf_dir}`)")]


@check("nad-config-invalid")
def nad_config_invalid(snap: Any) -> Iterator[Hit]:
    versions = getattr(snap, "versions", None)
    for nad in getattr(snap, "nads", None) or []:
        config = nad_config(nad)
        problems = _name_problems(nad) if isinstance(nad.get("metadata"), dict) or "kind" in nad else []
        if config is None:
            problems.append(("spec", "the NAD has no spec"))
        elif isinstance(config, str) and not config.strip():
            problems.extend(_empty_problems(nad, snap))
        else:
            problems.extend(config_problems(config, versions))
        for where, reason in problems:
            yield Hit(message=f"NetworkAttachmentDefinition {nad_name(nad)}: {reason}. Pods that name it stay in "
                      "ContainerCreating.",
                      fix=f"Fix {where} of {nad_name(nad)} ({fix_for(nad)})",
                      path=nad_name(nad), field=where, evidence={"nad": nad_name(nad)})
