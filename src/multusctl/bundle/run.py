"""`multusctl bundle`, free of click: collect every section, pass every member through the one scrub, index
them, and hand back the tarball's bytes. Collection never fails the bundle: a section that could not be
collected says why in the index."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from multusctl.bundle.model import Member, Section
from multusctl.config.credentials import timestamp

if TYPE_CHECKING:
    from multusctl.provision.api import Api

Progress = Callable[[Section], None]


@dataclass
class Options:
    root: str = "/"
    all_nodes: bool = False
    admin_kubeconfig: str | None = None
    context: str | None = None
    namespace: str = "kube-system"
    doctor_timeout: float = 2.0


@dataclass
class Bundle:
    top: str  # the one top-level directory, multusctl-bundle-<stamp>
    stamp: str
    data: bytes  # the .tar.gz
    sections: list[Section]


def stamp_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render_member(member: Member, secrets: set[str]) -> bytes:
    """THE scrub step every file of the bundle passes (the index included): a JSON value is scrubbed string by
    string before it is serialized, then the text once more as a last line of defence."""
    from multusctl.config.scrub import scrub_text, scrub_value

    if isinstance(member.content, str):
        text = scrub_text(member.content, secrets)
    else:
        text = scrub_text(json.dumps(scrub_value(member.content, secrets), indent=2, ensure_ascii=False) + "\n")
    return text.encode("utf-8", "surrogateescape")


def collect(opts: Options, secrets: set[str], progress: Progress = lambda s: None) -> tuple[list[Section], str | None]:
    """Every section, in the order of the index; (sections, the admin kubeconfig used or None)."""
    from multusctl.analyze import node_snapshot
    from multusctl.bundle.collect_cluster import cluster_sections
    from multusctl.bundle.collect_doctor import doctor_section
    from multusctl.bundle.collect_node import node_section
    from multusctl.cli.admin import AdminUnavailable, connect

    snap = node_snapshot(opts.root)
    secrets |= snap.secrets  # the node's kubeconfigs and k3s join token, met while reading the node
    api: Api | None = None
    api_error: str | None = None
    admin_path: str | None = None
    try:
        api, admin_path = connect("bundle", opts.root, None, opts.admin_kubeconfig, opts.context, secrets)
    except AdminUnavailable as exc:
        api_error = str(exc).removeprefix("bundle: ")
    sections: list[Section] = []

    def done(section: Section) -> None:
        sections.append(section)
        progress(section)

    try:
        done(node_section(opts.root, snap, all_nodes=opts.all_nodes, api=api, api_error=api_error,
                          namespace=opts.namespace))
        done(doctor_section(opts.root, snap, admin_path, secrets, context=opts.context,
                            timeout=opts.doctor_timeout))
        for section in cluster_sections(api, api_error, opts.namespace):
            done(section)
    finally:
        if api is not None:
            secrets |= api.secrets  # tokens the API returned on this connection
            api.close()
    return sections, admin_path


def build(opts: Options, now: datetime | None = None, progress: Progress = lambda s: None) -> Bundle:
    from multusctl.bundle.archive import tar_gz
    from multusctl.bundle.index import Run, index_document, index_markdown

    now = now or datetime.now(UTC)
    stamp = stamp_of(now)
    top = f"multusctl-bundle-{stamp}"
    secrets: set[str] = set()
    sections, admin_path = collect(opts, secrets, progress)
    files = {m.path: render_member(m, secrets) for s in sections for m in s.members}
    run = Run(created=timestamp(now),
              root=None if opts.all_nodes else opts.root, all_nodes=opts.all_nodes, namespace=opts.namespace,
              admin_kubeconfig=admin_path, context=opts.context, top=top)
    doc = index_document(run, sections, files)
    files["index.json"] = render_member(Member("index.json", doc), secrets)
    files["INDEX.md"] = render_member(Member("INDEX.md", index_markdown(doc)), secrets)
    order = ["INDEX.md", "index.json", *(p for p in files if p not in ("INDEX.md", "index.json"))]
    data = tar_gz(top, [(p, files[p]) for p in order], int(now.timestamp()))
    return Bundle(top, stamp, data, sections)
