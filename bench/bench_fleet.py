"""Cost of `multusctl check --all-nodes` over N simulated nodes (a few distro roots shared among them).

    PYTHONPATH=src:. python3 bench/bench_fleet.py                 # 50 and 200 nodes, pod mode and DaemonSet mode
    PYTHONPATH=src:. python3 bench/bench_fleet.py 50 100 200 --mode pods --json

For each N and mode: the wall time of the command (start-up to exit, every node answered and everything
removed), the peak RSS of the multusctl process itself (not of the test cluster in this process, nor of
the pods, which are the kubelet's children), its own CPU time, and the ratios to the first N: how both
grow. The pods run the real zipapp with this machine's python3, so the wall time on a 2-core machine is mostly the pods'
CPU (about 0.4 s each), which a real cluster spreads over its nodes: `per_node_ms` at the largest N
against the smallest says whether multusctl's own share grows faster than linearly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests import distro_roots as roots
from tests.fleet.fleetkit import leftovers, node_root

from multusctl.testing import TestCluster
from multusctl.testing.nodes import SimNode

WRAP = ("import atexit, resource, sys\n"
        "def said(u=resource.getrusage):\n"
        "    r = u(resource.RUSAGE_SELF); print('MAXRSS_KB', r.ru_maxrss, r.ru_utime + r.ru_stime, file=sys.stderr)\n"
        "atexit.register(said)\n"
        "sys.argv = ['multusctl', *sys.argv[1:]]\n"
        "from multusctl.cli.main import main\nmain()\n")


def one(n: int, mode: str, base: Path, concurrency: int) -> dict[str, Any]:
    shared = [node_root(base / "k3s", roots.k3s_agent()), node_root(base / "rke2", roots.rke2_agent()),
              node_root(base / "kubeadm", roots.kubeadm_worker())]
    nodes = [SimNode(f"node-{i:04d}", shared[i % len(shared)]) for i in range(n)]
    with TestCluster(nodes=nodes) as cluster:
        kc = cluster.admin_kubeconfig(base / "admin.kubeconfig")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parent.parent / "src"),
                                                                        os.environ.get("PYTHONPATH")) if p)}
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", WRAP, "check", "--all-nodes", "--kubeconfig", str(kc),
                               "--mode", mode, "--concurrency", str(concurrency), "--timeout", "300s",
                               "--qps", "100", "-o", "json"], capture_output=True, text=True, env=env, check=False)
        wall = time.monotonic() - t0
        doc = json.loads(proc.stdout)
        said = next((line.split() for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB")), ["", 0, 0])
        rss, cpu = int(said[1]), float(said[2])
        deadline = time.monotonic() + 30
        while leftovers(cluster) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = leftovers(cluster)
    checked = doc["summary"]["checked"]
    if checked != n or left:
        raise SystemExit(f"broken: {n} nodes, {checked} checked, left {left[:5]}; {proc.stderr[-500:]}")
    return {"nodes": n, "mode": mode, "wall_s": round(wall, 2), "per_node_ms": round(wall * 1000 / n, 1),
            "peak_rss_mb": round(rss / 1024, 1), "cpu_s": round(cpu, 2), "cpu_per_node_ms": round(cpu * 1000 / n, 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[50, 200])
    ap.add_argument("--mode", choices=["pods", "daemonset", "both"], default="both")
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    modes = ["pods", "daemonset"] if args.mode == "both" else [args.mode]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            for n in args.sizes:
                rows.append(one(n, mode, Path(tmp) / f"{mode}-{n}", args.concurrency))
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        ref = mine[0]
        for r in mine:
            r["wall_x"] = round(r["wall_s"] / ref["wall_s"], 2)
            r["rss_x"] = round(r["peak_rss_mb"] / ref["peak_rss_mb"], 2) if ref["peak_rss_mb"] else None
            r["nodes_x"] = round(r["nodes"] / ref["nodes"], 2)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['mode']:<9} {r['nodes']:>5} nodes: {r['wall_s']:>7.2f} s wall ({r['per_node_ms']} ms/node), "
                  f"multusctl's own CPU {r['cpu_s']} s ({r['cpu_per_node_ms']} ms/node), peak RSS "
                  f"{r['peak_rss_mb']} MiB; vs the first size: nodes x{r['nodes_x']}, wall x{r['wall_x']}, "
                  f"RSS x{r['rss_x']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
