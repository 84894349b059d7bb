"""`multusctl uninstall`: remove only what install manages, in reverse order, then clean the nodes.

Ours: the managed-by=multusctl label or a server-side apply by field manager multusctl. The rendered names
(when render is available) are checked too: an object of one of our names that is not ours is refused and
left alone, and the whole uninstall stops before its first change, like every precondition.

The NAD CRD is kept by default: deleting a CRD deletes every NetworkAttachmentDefinition with it (the users'
network definitions, which other meta-plugins may also read). `--delete-crd` removes it, and only while no
NetworkAttachmentDefinition exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from multusctl.install import cleanup as clean
from multusctl.install.backup import Backup
from multusctl.install.objects import NAD_CRD, SELECTOR, Ref, is_ours, owner_text
from multusctl.install.preflight import Permissions, Refused
from multusctl.install.rollout import Progress, RolloutTimeout, wait_gone, wait_rollout
from multusctl.provision.api_objects import kind_of

Obj = dict[str, Any]

# Reverse of install's apply order: the DaemonSet first (nothing rewrites 00-multus.conf after it), the CRD last.
DISCOVER: tuple[tuple[str, str], ...] = (
    ("apps/v1", "DaemonSet"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("v1", "ServiceAccount"), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
)


@dataclass(frozen=True)
class NodeCleanup:
    conf_dir: str
    multus_kubeconfig: str
    image: str = clean.DEFAULT_IMAGE
    timeout: float = 120.0
    print_commands: bool = False


@dataclass
class Result:
    deleted: list[Ref] = field(default_factory=list)  # with dry_run: what would be deleted
    kept: list[str] = field(default_factory=list)  # one line each, why
    cleaned_nodes: list[str] = field(default_factory=list)
    node_commands: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # after the first change: the cleanup did not finish
    backup: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


def _candidates(api: Any, namespace: str, rendered: list[Obj] | None) -> tuple[list[Obj], list[str]]:
    """(our live objects in deletion order, refusals)."""
    out: list[Obj] = []
    refused: list[str] = []
    seen: set[Ref] = set()

    def add(live: Obj) -> None:
        ref = Ref.of(live)
        if ref not in seen:
            seen.add(ref)
            out.append(live)

    for obj in reversed(rendered or []):
        ref = Ref.of(obj)
        live = api.get_object(ref.api_version, ref.kind, ref.name, ref.namespace)
        if live is None:
            continue
        if is_ours(live):
            add(live)
        else:
            refused.append(f"{ref} is not managed by multusctl ({owner_text(live)}): refusing to delete it")
            seen.add(ref)
    for api_version, kind in DISCOVER:
        ns = namespace if kind_of(api_version, kind).namespaced else None
        items, _ = api.list_objects(api_version, kind, ns, labels=SELECTOR)
        for live in items:
            live.setdefault("apiVersion", api_version)
            live.setdefault("kind", kind)
            add(live)
    # Deletion order: rendered ones in reverse, discovered ones by kind; the DaemonSets first either way.
    rank = {k: i for i, (_, k) in enumerate(DISCOVER)}
    out.sort(key=lambda o: rank.get(str(o.get("kind")), len(rank)))
    return out, refused


def _nads(api: Any) -> list[str]:
    from multusctl.provision.api import ApiFailure

    try:
        items, _ = api.list_objects("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", None)
    except ApiFailure as exc:
        if exc.code == 404:
            return []
        raise
    return [f"{(o.get('metadata') or {}).get('namespace')}/{(o.get('metadata') or {}).get('name')}" for o in items]


def uninstall(api: Any, namespace: str, dry_run: bool, *, rendered: list[Obj] | None = None,
              delete_crd: bool = False, nodes: NodeCleanup | None = None, backup: Backup | None = None,
              on_progress: Callable[[str], None] | None = None) -> Result:
    """Raises preflight.Refused before any change; ApiFailure from the API."""
    say = on_progress or (lambda _line: None)
    result = Result()
    perms = Permissions(api)
    for api_version, kind in DISCOVER:
        perms.need(kind_of(api_version, kind), ("list",), namespace)
    for obj in rendered or []:
        ref = Ref.of(obj)
        perms.need(kind_of(ref.api_version, ref.kind), ("get",), ref.namespace)
    if problem := perms.problem():  # before reading: the reads need these rights too
        raise Refused("uninstall", [problem])
    targets, refused = _candidates(api, namespace, rendered)
    for live in targets:
        ref = Ref.of(live)
        perms.need(kind_of(ref.api_version, ref.kind), ("delete",), ref.namespace)
    if nodes is not None and not nodes.print_commands:
        perms.need(kind_of("apps/v1", "DaemonSet"), ("create", "patch", "get", "watch", "delete"), namespace)
    problems = [p for p in [perms.problem()] if p] + refused
    crds = [o for o in targets if o.get("kind") == "CustomResourceDefinition" and o["metadata"]["name"] == NAD_CRD]
    if crds and not delete_crd:
        targets = [o for o in targets if o not in crds]
        result.kept.append(f"CustomResourceDefinition {NAD_CRD} kept: deleting it deletes every "
                           "NetworkAttachmentDefinition (--delete-crd removes it when none exists)")
    elif crds and (nads := _nads(api)):
        problems.append(f"--delete-crd: {len(nads)} NetworkAttachmentDefinition(s) still exist "
                        f"({', '.join(nads[:5])}{', ...' if len(nads) > 5 else ''}); delete them first")
    if problems:
        raise Refused("uninstall", problems)

    for live in targets:
        ref = Ref.of(live)
        if not dry_run and backup is not None:
            backup.save(live)
            result.backup = backup.directory
        # Foreground for the DaemonSet: its object goes only once its pods are gone, so nothing rewrites
        # 00-multus.conf behind the node cleanup. The uid precondition: never a same-named newcomer.
        policy = "Foreground" if ref.kind == "DaemonSet" else "Background"
        gone = api.delete_object(ref.api_version, ref.kind, ref.name, ref.namespace, dry_run=dry_run,
                                 uid=(live.get("metadata") or {}).get("uid"), propagation=policy)
        if gone is not None:
            result.deleted.append(ref)
            say(f"{ref} deleted" + (" (server dry run)" if dry_run else ""))
        if ref.kind == "DaemonSet" and not dry_run and nodes is not None and not wait_gone(
                api, ref.api_version, ref.kind, ref.namespace, ref.name, nodes.timeout):
            result.problems.append(f"{ref} still terminating after {nodes.timeout:g} s")
    if nodes is not None:
        _clean_nodes(api, namespace, dry_run, nodes, result, say)
    return result


def _clean_nodes(api: Any, namespace: str, dry_run: bool, nodes: NodeCleanup, result: Result,
                 say: Callable[[str], None]) -> None:
    commands = clean.node_commands(nodes.conf_dir, nodes.multus_kubeconfig)
    if nodes.print_commands:
        result.node_commands = commands
        return
    ds = clean.cleanup_daemonset(namespace, nodes.conf_dir, nodes.multus_kubeconfig, nodes.image)
    if dry_run:
        api.apply_object(ds, dry_run=True)
        say(f"DaemonSet {namespace}/{clean.CLEANUP_NAME} would clean every node (server dry run)")
        return
    api.apply_object(ds)
    try:
        def progress(p: Progress) -> None:
            say(f"node cleanup: {p.ready}/{p.desired} node(s) done")

        wait_rollout(api, namespace, clean.CLEANUP_NAME, nodes.timeout, progress)
        pods, _ = api.list_objects("v1", "Pod", namespace, labels=f"app.kubernetes.io/name={clean.CLEANUP_NAME}")
        result.cleaned_nodes = sorted({(p.get("spec") or {}).get("nodeName") or "?" for p in pods})
    except RolloutTimeout as exc:
        result.problems.append(f"node cleanup did not finish: {exc}; run on the remaining nodes: "
                               + "; ".join(commands))
        result.node_commands = commands
    finally:
        # Always removed, also on Ctrl-C or a timeout: a cleanup DaemonSet left behind would re-run forever.
        api.delete_object("apps/v1", "DaemonSet", clean.CLEANUP_NAME, namespace, propagation="Background")
