"""Reachability from inside a sandbox: one ICMP echo (IPv4 or IPv6) over a raw socket, run as
`ip netns exec NS python -m multusctl.cni.ping ADDR SECONDS` (no `ping` binary is needed on the node).
Exit 0 on a reply, 1 on none, 2 on bad input; one line on stdout says which."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import subprocess
import sys
import time


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo(addr: str, timeout: float) -> str | None:
    """None on a reply, else why not."""
    ip = ipaddress.ip_address(addr)
    v6 = ip.version == 6
    family, proto, req, rep = ((socket.AF_INET6, socket.IPPROTO_ICMPV6, 128, 129) if v6
                               else (socket.AF_INET, socket.IPPROTO_ICMP, 8, 0))
    ident = os.getpid() & 0xFFFF
    body = b"multusctl"
    header = struct.pack("!BBHHH", req, 0, 0, ident, 1)
    packet = struct.pack("!BBHHH", req, 0, 0 if v6 else _checksum(header + body), ident, 1) + body
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_RAW, proto) as s:
        try:
            s.sendto(packet, (addr, 0))
        except OSError as exc:
            return f"cannot send to {addr}: {exc.strerror or exc}"
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(2048)
            except TimeoutError:
                break
            icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) >= 8 and icmp[0] == rep and struct.unpack("!H", icmp[4:6])[0] == ident:
                return None
    return f"no echo reply from {addr} within {timeout:g} s"


def from_netns(netns: str, addr: str, timeout: float) -> str | None:
    """Ping `addr` from inside the named namespace; None on a reply, else why not."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "multusctl.cni.ping", addr,
                           str(timeout)], capture_output=True, text=True, env=env, timeout=timeout + 10, check=False)
    if proc.returncode == 0:
        return None
    return (proc.stdout.strip() or proc.stderr.strip() or f"exit {proc.returncode}").splitlines()[-1]


def main(argv: list[str]) -> int:
    try:
        addr, timeout = argv[0], float(argv[1])
        ipaddress.ip_address(addr)
    except (IndexError, ValueError):
        print("usage: python -m multusctl.cni.ping ADDR SECONDS")
        return 2
    why = echo(addr, timeout)
    print(why or f"reply from {addr}")
    return 0 if why is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
