"""`python -m multusctl.testing serve --dir DIR [--seed FILE ...] [--fault SPEC ...]`: run a test
cluster until interrupted. See `serve --help` for the fault spec grammar."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from multusctl.testing.faults import refused_port, tls_handshake_blackhole
from multusctl.testing.faultspec import GRAMMAR, FaultSpec, FaultSpecError, parse_fault_spec
from multusctl.testing.server import DEFAULT_SANS, TestCluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multusctl.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a test cluster on 127.0.0.1 until interrupted",
                           epilog=GRAMMAR, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--dir", required=True, type=Path, help="where to write admin.kubeconfig and ca.crt")
    serve.add_argument("--seed", action="append", default=[], type=Path, help="YAML file of objects to seed")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--san", action="append", default=[], help="extra serving certificate SAN")
    serve.add_argument("--fault", action="append", default=[], metavar="SPEC",
                       help="arm a per-request fault before serving (repeatable; grammar below)")
    serve.add_argument("--tls-blackhole", action="store_true",
                       help="also listen on a port that accepts TCP but never answers the TLS handshake; "
                            "DIR/tls-blackhole.kubeconfig points at it")
    serve.add_argument("--refused-port", action="store_true",
                       help="also hold a port that refuses connections; DIR/refused.kubeconfig points at it")
    args = parser.parse_args(argv)

    specs: list[FaultSpec] = []
    for text in args.fault:
        try:
            specs.append(parse_fault_spec(text))
        except FaultSpecError as exc:
            print(f"error: --fault {text!r}: {exc}", file=sys.stderr)
            return 2
    cluster = TestCluster(sans=[*DEFAULT_SANS, *args.san], port=args.port)
    try:
        for path in args.seed:
            cluster.seed_yaml(path)
    except (OSError, ValueError) as exc:
        print(f"error: cannot seed: {exc}", file=sys.stderr)
        return 2
    for spec in specs:
        spec.arm(cluster.faults)
    stop = threading.Event()
    # SIGTERM ends the run like Ctrl-C, so `kill PID` leaves no stale listener.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with cluster, contextlib.ExitStack() as extra:
        args.dir.mkdir(parents=True, exist_ok=True)
        cluster.admin_kubeconfig(args.dir / "admin.kubeconfig")
        (args.dir / "ca.crt").write_bytes(cluster.ca_pem)
        if args.tls_blackhole:
            host, port = extra.enter_context(tls_handshake_blackhole())
            cluster.admin_kubeconfig(args.dir / "tls-blackhole.kubeconfig", server=f"https://{host}:{port}")
        if args.refused_port:
            port = extra.enter_context(refused_port())
            cluster.admin_kubeconfig(args.dir / "refused.kubeconfig", server=f"https://127.0.0.1:{port}")
        print(cluster.url, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
