"""`python -m multusctl.testing serve --dir DIR [--seed FILE ...] [--fault SPEC ...] [--node NAME=ROOT[:FLAG,...]
...] [--nodes N --node-root ROOT]`: run a test cluster until interrupted. See `serve --help` for the fault
spec grammar."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

from multusctl.testing.faults import refused_port, tls_handshake_blackhole
from multusctl.testing.faultspec import GRAMMAR, FaultSpec, FaultSpecError, parse_fault_spec
from multusctl.testing.nodes import NodeSpecError, SimNode, parse_flags, parse_node_spec
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
    serve.add_argument("--node", action="append", default=[], metavar="NAME=ROOT[:FLAG,...]",
                       help="a simulated node whose hostPath volumes come from ROOT (repeatable); flags: "
                            "notready, nopull, slow=SECONDS")
    serve.add_argument("--nodes", type=int, default=0, metavar="N",
                       help="N simulated nodes node-1..node-N sharing --node-root")
    serve.add_argument("--node-root", type=Path, help="the root directory of the --nodes nodes")
    serve.add_argument("--node-flags", default="", metavar="FLAG,...", help="flags of the --nodes nodes")
    serve.add_argument("--unpullable-image", action="append", default=[], metavar="REF",
                       help="an image no node can pull (ErrImagePull)")
    args = parser.parse_args(argv)
    try:
        nodes = [parse_node_spec(n) for n in args.node]
        if args.nodes:
            if args.node_root is None:
                raise NodeSpecError("--nodes needs --node-root")
            nodes += [parse_flags(SimNode(f"node-{i}", args.node_root), args.node_flags)
                      for i in range(1, args.nodes + 1)]
    except NodeSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    specs: list[FaultSpec] = []
    for text in args.fault:
        try:
            specs.append(parse_fault_spec(text))
        except FaultSpecError as exc:
            print(f"error: --fault {text!r}: {exc}", file=sys.stderr)
            return 2
    cluster = TestCluster(sans=[*DEFAULT_SANS, *args.san], port=args.port, nodes=nodes or None,
                          unpullable_images=args.unpullable_image)
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
