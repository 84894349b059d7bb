#!/usr/bin/env python3
"""Does `multusctl check` stay linear in the number of conf files? (issue 6 #8: it was quadratic)

    python bench/bench_scaling.py [--sizes 500,2000,8000] [--runs 3] [--json]

Builds a k3s server root with N multus configs (`00-multus-NNNNN.conf`, each naming the flannel primary
by path), times `multusctl check` on each size (interleaved, median of --runs), and prints the cost per
file of each size and its ratio to the smallest size's. Linear work gives ratios near 1 (start-up weighs
on the smallest size, so they tend to fall below 1); a quadratic pass makes them grow with N (before the
fix: 0.6/1.5/3.7/31 s for 1k/4k/8k/20k files, a ratio of 3.9 at 20k). Exits non-zero only when the command
breaks (exit 2 or more, a traceback), never because of the timings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


def multus_root(base: Path, n: int) -> Path:
    """A k3s server root with `n` multus configs naming the flannel primary (shared with bench_conf_files)."""
    sys.path.insert(0, str(REPO))
    from tests.distro_roots import k3s_server
    from tests.noderoot import make_root

    files = dict(k3s_server())
    for i in range(n):
        files[f"{CONF}/00-multus-{i:05d}.conf"] = {
            "cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus",
            "kubeconfig": f"{CONF}/multus.d/multus.kubeconfig", "clusterNetwork": f"{CONF}/10-flannel.conflist"}
    return make_root(base / f"n{n}", files)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="500,2000,8000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    walls: dict[int, list[float]] = {n: [] for n in sizes}
    with tempfile.TemporaryDirectory(prefix="multusctl-scaling-") as tmp:
        roots = {n: multus_root(Path(tmp), n) for n in sizes}
        for _ in range(args.runs):
            for n in sizes:
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(roots[n]), "-o",
                                       "json"], capture_output=True, stdin=subprocess.DEVNULL, check=False)
                walls[n].append(time.perf_counter() - t0)
                if proc.returncode >= 2 or b"Traceback" in proc.stderr:
                    print(f"bench: ERROR: check on {n} files exited {proc.returncode}:\n"
                          f"{proc.stderr.decode(errors='replace')[-1500:]}", file=sys.stderr)
                    return 1
    base = statistics.median(walls[sizes[0]]) / sizes[0]
    result = {}
    for n in sizes:
        med = statistics.median(walls[n])
        per = med / n
        result[n] = {"median_s": round(med, 3), "ms_per_file": round(per * 1000, 4), "ratio": round(per / base, 2)}
        print(f"{n:>6} files: median {med:.2f} s, {per * 1000:.3f} ms per file, {per / base:.2f}x the per-file "
              f"cost at {sizes[0]}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
