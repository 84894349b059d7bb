"""`python -m multusctl.testing serve --dir DIR [--seed FILE ...]`: run a test cluster until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from multusctl.testing.server import DEFAULT_SANS, TestCluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multusctl.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a test cluster on 127.0.0.1 until interrupted")
    serve.add_argument("--dir", required=True, type=Path, help="where to write admin.kubeconfig and ca.crt")
    serve.add_argument("--seed", action="append", default=[], type=Path, help="YAML file of objects to seed")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--san", action="append", default=[], help="extra serving certificate SAN")
    args = parser.parse_args(argv)

    cluster = TestCluster(sans=[*DEFAULT_SANS, *args.san], port=args.port)
    try:
        for path in args.seed:
            cluster.seed_yaml(path)
    except (OSError, ValueError) as exc:
        print(f"error: cannot seed: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    # SIGTERM ends the run like Ctrl-C, so `kill PID` leaves no stale listener.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with cluster:
        args.dir.mkdir(parents=True, exist_ok=True)
        cluster.admin_kubeconfig(args.dir / "admin.kubeconfig")
        (args.dir / "ca.crt").write_bytes(cluster.ca_pem)
        print(cluster.url, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
