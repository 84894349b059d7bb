"""The API permissions Multus needs (FACTS.md §3), per mode and release: rendered as the ClusterRole and
checked against a manifest's ClusterRole, from this one table.

thin (every v4 release): at ADD the plugin GETs the pod, GETs each NAD, creates events and writes the
network-status annotation with a pods/status update. thick v4.1+: the daemon also runs informers on pods
and NADs (pkg/server/server.go newNetDefInformer, v4.1.0), so it needs list and watch. v4.0.x's daemon has
no informer and needs what thin needs.
"""

from __future__ import annotations

from typing import Any

from multusctl.render.options import Version

Grant = tuple[str, str, str]  # (apiGroup, resource, verb); "" is the core group

NAD_GROUP = "k8s.cni.cncf.io"
NAD_RESOURCE = "network-attachment-definitions"


def needed(mode: str, version: Version | None) -> list[Grant]:
    """What multus `mode` at `version` calls; an unknown version gets the newest release's needs."""
    informers = mode == "thick" and (version is None or version.at_least(1))
    reads = ("get", "list", "watch") if informers else ("get",)
    out: list[Grant] = [("", "pods", v) for v in reads]
    out.append(("", "pods/status", "update"))
    out += [(NAD_GROUP, NAD_RESOURCE, v) for v in reads]
    out.append(("", "events", "create"))
    return out


def rules(mode: str, version: Version) -> list[dict[str, Any]]:
    """`needed` as ClusterRole rules, one rule per (group, resource)."""
    by: dict[tuple[str, str], list[str]] = {}
    for group, resource, verb in needed(mode, version):
        by.setdefault((group, resource), []).append(verb)
    return [{"apiGroups": [g], "resources": [r], "verbs": verbs} for (g, r), verbs in by.items()]


def grants(rule: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """A rule's (apiGroups, resources, verbs), each a list of strings (anything else reads as empty)."""
    def strs(key: str) -> list[str]:
        v = rule.get(key)
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
    return strs("apiGroups"), strs("resources"), strs("verbs")


def allows(rule_list: list[dict[str, Any]], grant: Grant) -> bool:
    group, resource, verb = grant
    for rule in rule_list:
        groups, resources, verbs = grants(rule)
        if ((group in groups or "*" in groups) and (resource in resources or "*" in resources)
                and (verb in verbs or "*" in verbs)):
            return True
    return False


def excess(rule_list: list[dict[str, Any]], mode: str, version: Version | None) -> list[str]:
    """What the rules grant beyond `needed`, said as `group/resource: verbs` (wildcards by name)."""
    need = set(needed(mode, version))
    out: list[str] = []
    for rule in rule_list:
        groups, resources, verbs = grants(rule)
        for g in groups:
            for r in resources:
                extra = [v for v in verbs if v == "*" or "*" in (g, r) or (g, r, v) not in need]
                if extra:
                    out.append(f"{g or 'core'}/{r}: {', '.join(extra)}")
    return out
