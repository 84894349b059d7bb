"""Which objects are ours, and how to name one object in one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multusctl.provision.api_objects import FIELD_MANAGER

Obj = dict[str, Any]

MANAGED_BY = "app.kubernetes.io/managed-by"
PART_OF = "app.kubernetes.io/part-of"
OUR_LABELS = {MANAGED_BY: "multusctl", PART_OF: "multus"}
SELECTOR = f"{MANAGED_BY}=multusctl,{PART_OF}=multus"
NAD_CRD = "network-attachment-definitions.k8s.cni.cncf.io"


@dataclass(frozen=True)
class Ref:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, obj: Obj) -> Ref:
        meta = obj.get("metadata") or {}
        return cls(str(obj.get("apiVersion", "")), str(obj.get("kind", "")), str(meta.get("name", "")),
                   meta.get("namespace") or None)

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


def managers(obj: Obj) -> list[str]:
    """The field managers of a live object, each once, in managedFields order."""
    out: list[str] = []
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        name = entry.get("manager") or "unknown"
        if name not in out:
            out.append(name)
    return out


def applied_by_us(obj: Obj) -> bool:
    return any(e.get("manager") == FIELD_MANAGER and e.get("operation") == "Apply"
               for e in (obj.get("metadata") or {}).get("managedFields") or [])


def labelled_ours(obj: Obj) -> bool:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY) == "multusctl"


def is_ours(obj: Obj) -> bool:
    """Install's own: our managed-by label, or a server-side apply by our field manager. (`kubeconfig
    create` also writes as multusctl, but by create/update and without the label: not install's.)"""
    return labelled_ours(obj) or applied_by_us(obj)


def owner_text(obj: Obj) -> str:
    """Who does own a live object that is not ours, for a one-line refusal."""
    names = managers(obj)
    label = ((obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY)
    who = f"field managers {', '.join(names)}" if names else "no field managers"
    return who + (f", managed-by={label}" if label else ", no managed-by label")
