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


class AdminUnavailable(Exception):
    """No usable admin kubeconfig (none found, unreadable, unparsable, unusable): one secret-free line.
    `admin_api` exits 2 with it; `bundle` records it and goes on with what needs no cluster."""


def connect(verb: str, root: str, distro: str | None, explicit: str | None, context: str | None,
            secrets: set[str]) -> tuple[Api, str]:
    """A client for the admin kubeconfig found like kubectl (--kubeconfig, $KUBECONFIG, then the node's
    admin kubeconfig, then ~/.kube/config), and that kubeconfig's path. Nothing is sent yet: an unreachable
    server shows on the first call."""
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
        raise AdminUnavailable(f"{verb}: no admin kubeconfig found ($KUBECONFIG, the node's admin kubeconfig, "
                               "~/.kube/config); pass --kubeconfig FILE")
    path = found[0]
    try:
        kc = parse(read_regular_file(path, path))
    except NodeFSError as exc:
        raise AdminUnavailable(f"{verb}: cannot read {exc}") from None
    except ParseError as exc:
        raise AdminUnavailable(f"{verb}: {path}: {exc}") from None
    secrets |= set(kc.secrets)
    try:
        return connect_admin(path, kc.raw, context, secrets), path
    except ApiFailure as exc:
        from multusctl.config.secrets import redact

        raise AdminUnavailable(redact(f"{verb}: {exc}", secrets)) from None


@contextmanager
def admin_api(verb: str, root: str, distro: str | None, explicit: str | None, context: str | None,
             secrets: set[str]) -> Iterator[Api]:
    """`connect`, or exit 2 saying why there is no admin connection."""
    try:
        api, _path = connect(verb, root, distro, explicit, context, secrets)
    except AdminUnavailable as exc:
        fail(2, str(exc), secrets)
    try:
        yield api
    finally:
        api.close()
