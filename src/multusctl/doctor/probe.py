"""What doctor saw, gathered once: the steps it ran and the raw facts; the cluster checks judge it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from multusctl.doctor.endpoint import Endpoint

# The steps, in the order they run and print. A step names the one before it that it needs.
STEPS: tuple[tuple[str, str, str | None], ...] = (
    ("kubeconfig", "Multus kubeconfig", None),
    ("dns", "DNS", "kubeconfig"),
    ("tcp", "TCP connect", "dns"),
    ("tls", "TLS", "tcp"),
    ("auth", "authentication", "tls"),
    ("rbac", "permissions", "auth"),
    ("latency", "latency", "auth"),
    ("nad-crd", "NAD CRD", "auth"),
    ("daemon-socket", "daemon socket", None),
    ("admin", "admin API", None),
    ("daemon-identity", "daemon ServiceAccount", "admin"),
    ("nads", "NAD configs", None),
    ("daemonset", "multus DaemonSet", "admin"),
    ("logs", "multus pod logs", "daemonset"),
)
LABELS = {name: label for name, label, _ in STEPS}


@dataclass
class Step:
    name: str
    status: str = "skipped"  # ok | failed | skipped
    duration_ms: float = 0.0
    detail: str = ""  # one line: what was seen, or why it did not run
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "status": self.status, "duration_ms": self.duration_ms,
                "detail": self.detail}


@dataclass(frozen=True)
class Need:
    """One permission Multus needs (FACTS.md §3), and what breaks without it."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    why: str = ""
    severity: str = "error"

    @property
    def text(self) -> str:
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {res}" + (f".{self.group}" if self.group else "")


@dataclass(frozen=True)
class Access:
    need: Need
    allowed: bool
    who: str  # whose permission was asked
    reason: str = ""  # the authorizer's reason, when it gave one


@dataclass
class ClusterProbe:
    """Everything the cluster checks read."""

    mode: str  # thin | thick | none | unknown
    endpoint: Endpoint | None = None
    multus_kubeconfig: str | None = None  # as the user knows it
    steps: dict[str, Step] = field(default_factory=dict)
    identity: dict[str, Any] | None = None  # username, groups, uid of the multus credentials
    access: list[Access] = field(default_factory=list)
    nad_crd: bool | None = None
    nads: list[dict[str, Any]] | None = None  # None: could not list
    daemonsets: list[dict[str, Any]] | None = None
    pods: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)  # "namespace/pod" -> log tail
    daemon_account: str | None = None  # namespace/name of the thick daemon's ServiceAccount
    daemon_account_missing: bool = False
    socket_path: str | None = None
    secrets: set[str] = field(default_factory=set)

    def step(self, name: str) -> Step:
        if name not in self.steps:
            self.steps[name] = Step(name)
        return self.steps[name]

    def failed(self, name: str, kind: str | None = None) -> bool:
        s = self.steps.get(name)
        return s is not None and s.status == "failed" and (kind is None or s.facts.get("kind") == kind)

    def ordered_steps(self) -> list[Step]:
        return [self.steps[name] for name, _, _ in STEPS if name in self.steps]
