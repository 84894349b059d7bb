"""A kubeconfig as a client-go client would dial it: address, TLS material, credentials.

Files are read with the one safe reader; a client key never touches the disk again (it reaches OpenSSL
through a memfd). Anything a client-go client could not use is a one-line `EndpointError`.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field

from multusctl.config import kubeconfig as kc_mod
from multusctl.config.errors import ParseError
from multusctl.config.secrets import redact_url, remember
from multusctl.gather.nodefs import NodeFSError, read_regular_file


class EndpointError(Exception):
    """This kubeconfig cannot be used to call the API: one line, no secrets."""


@dataclass
class Endpoint:
    """Where and as whom to call the API."""

    path: str  # the kubeconfig, as the user knows it
    server: str  # printable (no user info)
    host: str
    port: int
    tls: bool
    server_name: str  # SNI / the name the certificate must cover (tls-server-name or host)
    ca_pem: bytes | None
    insecure: bool
    token: str | None = None
    client_cert: bytes | None = None
    client_key: bytes | None = None
    unsupported_auth: str | None = None  # exec plugin, auth-provider: what doctor cannot run itself
    secrets: set[str] = field(default_factory=set)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def ssl_context(self, *, verify: bool = True) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.insecure or not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_pem:
            try:
                ctx.load_verify_locations(cadata=self.ca_pem.decode("ascii", "replace"))
            except ssl.SSLError as exc:
                raise EndpointError(f"{self.path}: certificate-authority is not a PEM certificate "
                                    f"({exc.reason or 'unreadable'})") from None
        else:
            ctx.load_default_certs()
        if self.client_cert and self.client_key:
            _load_client_pair(ctx, self.client_cert, self.client_key, self.path)
        return ctx


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("multusctl-doctor", os.MFD_CLOEXEC)
    os.write(fd, data)
    return fd


def _load_client_pair(ctx: ssl.SSLContext, cert: bytes, key: bytes, path: str) -> None:
    # ssl loads certificates only from files; a memfd is a file that never reaches a disk.
    cert_fd, key_fd = _memfd(cert), _memfd(key)
    try:
        ctx.load_cert_chain(f"/proc/self/fd/{cert_fd}", f"/proc/self/fd/{key_fd}")
    except (ssl.SSLError, OSError):
        raise EndpointError(f"{path}: the client certificate and key cannot be loaded (not PEM, or not a "
                            "pair)") from None
    finally:
        os.close(cert_fd)
        os.close(key_fd)


def _read(host_path: str, shown: str) -> bytes:
    try:
        return read_regular_file(host_path, shown)
    except NodeFSError as exc:
        raise EndpointError(str(exc)) from None


def load(host_path: str, shown: str, root: str = "/") -> Endpoint:
    """The Endpoint of the kubeconfig at `host_path`, known to the node as `shown` (the files it names are
    node paths too, read under `root`)."""
    data = _read(host_path, shown)
    try:
        kc = kc_mod.parse(data)
    except ParseError as exc:
        raise EndpointError(f"{shown}: {exc}") from None
    remember(kc.secrets)
    if kc.problems:
        field_name, reason = kc.problems[0]
        raise EndpointError(f"{shown}: {field_name}: {reason}")
    server = kc.server or ""
    address = kc_mod.server_address(server)
    if address is None:
        raise EndpointError(f"{shown}: {kc_mod.server_problem(server) or 'server URL is unusable'}")
    host, port = address
    tls = not server.strip().lower().startswith("http://")

    def node_file(value: str) -> tuple[str, str]:
        node_path = kc_mod.resolve_ref(shown, value)  # `shown` is the kubeconfig's node path
        return os.path.join(root, node_path.lstrip("/")), node_path

    def data_or_file(section: str, data_key: str, file_key: str) -> bytes | None:
        where = kc.section(section)
        decoded = kc_mod.decoded_field(where, data_key)
        if decoded is not None:
            return decoded
        ref = where.get(file_key)
        if isinstance(ref, str) and ref.strip():
            return _read(*node_file(ref.strip()))
        return None

    ep = Endpoint(
        path=shown, server=redact_url(server), host=host.strip("[]"), port=port, tls=tls,
        server_name=kc.cluster_str("tls-server-name") or host.strip("[]"),
        ca_pem=data_or_file("cluster", "certificate-authority-data", "certificate-authority"),
        insecure=kc.cluster.get("insecure-skip-tls-verify") is True,
        client_cert=data_or_file("user", "client-certificate-data", "client-certificate"),
        client_key=data_or_file("user", "client-key-data", "client-key"),
        secrets=set(kc.secrets),
    )
    token = kc.token
    token_file = kc.user_str("tokenFile")
    if token is None and token_file:
        token = _read(*node_file(token_file)).decode("utf-8", "replace").strip() or None
    if token:
        remember([token])
        ep.secrets.add(token)
    ep.token = token
    if client_key := ep.client_key:
        ep.secrets.add(client_key.decode("utf-8", "replace"))
    if kc.user.get("exec") is not None:
        ep.unsupported_auth = "an exec credential plugin"
    elif kc.user.get("auth-provider") is not None:
        ep.unsupported_auth = "an auth-provider"
    return ep
