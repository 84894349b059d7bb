"""The admin connection every cluster verb shares (install, status, uninstall, nad, check --all-nodes,
bundle): the kubeconfig found as kubectl finds it, and the one-line exit on failure."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from multusctl.provision.api import Api


def fail(code: int, message: str, secrets: set[str] | None = None) -> NoReturn:
    from multusctl.config.secrets import redact

    click.echo(f"multusctl: {redact(message, secrets or set())}", err=True)
    sys.exit(code)


@contextmanager
def admin_api(verb: str, root: str, distro: str | None, explicit: str | None, context: str | None,
             secrets: set[str]) -> Iterator[Api]:
    """A client for the admin kubeconfig found like kubectl (--kubeconfig, $KUBECONFIG, then the node's
    admin kubeconfig, then ~/.kube/config); exit 2 when there is none or it is unusable."""
    from multusctl.cli.run import detect_layout_from
    from multusctl.config.errors import ParseError
    from multusctl.config.kubeconfig import parse
    from multusctl.gather.nodefs import NodeFSError, read_regular_file
    from multusctl.provision.api import ApiFailure, connect_admin
    from multusctl.provision.target import find_admin_kubeconfig

    node_admin = None
    fs, layout = detect_layout_from(root, None if distro in (None, "auto") else distro, None, None, ())
    if layout.admin_kubeconfig:
        try:
            node_admin = fs.host(layout.admin_kubeconfig)
        except NodeFSError:
            node_admin = None
    found = find_admin_kubeconfig(explicit, os.environ.get("KUBECONFIG"), node_admin, os.path.expanduser("~"))
    if found is None:
        fail(2, f"{verb}: no admin kubeconfig found ($KUBECONFIG, the node's admin kubeconfig, ~/.kube/config); "
                 "pass --kubeconfig FILE")
    path = found[0]
    try:
        kc = parse(read_regular_file(path, path))
    except NodeFSError as exc:
        fail(2, f"{verb}: cannot read {exc}")
    except ParseError as exc:
        fail(2, f"{verb}: {path}: {exc}")
    secrets |= set(kc.secrets)
    try:
        api = connect_admin(path, kc.raw, context, secrets)
    except ApiFailure as exc:
        fail(2, f"{verb}: {exc}", secrets)
    try:
        yield api
    finally:
        api.close()
