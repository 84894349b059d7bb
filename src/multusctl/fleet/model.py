"""What a run brings back: one NodeResult per selected node, never a missing row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Why a node could not be checked, for the fix a finding gives (checks/fleet.py).
FAILURE_KINDS = ("notready", "image", "mount", "evicted", "rejected", "deleted", "checker", "timeout", "api",
                 "interrupted")


@dataclass
class NodeResult:
    node: str
    distro: str = "unknown"  # the Node object's hint; the report's target says what the pod detected
    report: dict[str, Any] | None = None  # multusctl.report/v1 as the node's checker printed it
    failure_kind: str = ""
    failure: str = ""
    pod: str = ""
    duration_ms: int = 0
    failure_report: dict[str, Any] | None = None  # the node-gather-failed report, made once (aggregate.py)

    @property
    def gathered(self) -> bool:
        return self.report is not None


@dataclass
class FleetResult:
    run: str
    namespace: str
    mode: str  # pods | daemonset
    nodes: list[NodeResult] = field(default_factory=list)
    selector: str | None = None
    duration_ms: int = 0
    interrupted: bool = False
    exit_status: int = 0  # when interrupted: 130 for Ctrl-C, 143 for SIGTERM (multusctl.interrupt)
    leftover: str = ""  # why the run's objects could not be removed, with the command that removes them
