#!/usr/bin/env python3
"""Cost per conf file of `multusctl check` on a conf dir of 10,000 multus configs (issue 7, "Speed" #2).

    python bench/bench_conf_files.py [--files 10000] [--runs 5] [--compare SRC_DIR] [--json]

Builds two k3s server roots, one plain and one with --files multus configs (`00-multus-NNNNN.conf`, each
naming the flannel primary by path, as bench_scaling.py does), and times `python -m multusctl check -o json`
on both, interleaved; the cost per file is (median with files - median without) / files, so start-up is
not in it. The reference, timed in the same run: reading and `json.loads` of the same files in one
process, per file -- what no analysis of a JSON file can go under. With --compare SRC_DIR (another
checkout's `src`, e.g. `git archive HEAD src | tar -x -C /tmp/orig`) the other code is timed in the same
interleaved loop, for a before/after from one run.

Exits non-zero only when the command breaks (exit 2 or more, a traceback), never because of the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONF = "/var/lib/rancher/k3s/agent/etc/cni/net.d"


def _root(base: Path, n: int) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_scaling import multus_root

    return multus_root(base, n)


def _json_reference(root: Path) -> float:
    """Seconds per file to read and json.loads every conf file of the root (best of 3)."""
    paths = sorted((root / CONF.lstrip("/")).glob("00-multus-*.conf"))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for p in paths:
            json.loads(p.read_bytes())
        best = min(best, time.perf_counter() - t0)
    return best / max(len(paths), 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--compare", type=Path, default=None, metavar="SRC_DIR",
                    help="also time the multusctl package under SRC_DIR (e.g. the code before a change)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    trees = {"this": str(REPO / "src")}
    if args.compare:
        trees["compare"] = str(args.compare.resolve())
    with tempfile.TemporaryDirectory(prefix="multusctl-conffiles-") as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        roots = {0: _root(Path(tmp), 0), args.files: _root(Path(tmp), args.files)}
        ref = _json_reference(roots[args.files])
        walls: dict[tuple[str, int], list[float]] = {(t, n): [] for t in trees for n in roots}
        for i in range(args.runs + 1):  # the first round warms the page cache and writes bytecode
            for tree, src in trees.items():
                for n, root in roots.items():
                    t0 = time.perf_counter()
                    proc = subprocess.run([sys.executable, "-m", "multusctl", "check", "--root", str(root), "-o",
                                           "json"], capture_output=True, stdin=subprocess.DEVNULL, check=False,
                                          env={**env, "PYTHONPATH": src})
                    wall = time.perf_counter() - t0
                    if proc.returncode >= 2 or b"Traceback" in proc.stderr:
                        print(f"bench: ERROR: {tree}: check on {n} files exited {proc.returncode}:\n"
                              f"{proc.stderr.decode(errors='replace')[-1500:]}", file=sys.stderr)
                        return 1
                    if i:
                        walls[tree, n].append(wall)
    print(f"reference: read + json.loads of one conf file: {ref * 1000:.4f} ms")
    result: dict[str, object] = {"files": args.files, "runs": args.runs, "json_loads_ms_per_file": round(ref * 1000, 4)}
    for tree, src in trees.items():
        base, full = statistics.median(walls[tree, 0]), statistics.median(walls[tree, args.files])
        per = (full - base) / args.files
        print(f"{tree} ({src}): {args.files} files {full:.2f} s, none {base:.3f} s median of {args.runs}: "
              f"{per * 1000:.4f} ms per file, {per / ref:.1f}x the json.loads reference")
        result[tree] = {"median_s": round(full, 3), "baseline_s": round(base, 3), "ms_per_file": round(per * 1000, 4),
                        "ratio_to_json_loads": round(per / ref, 2)}
    if args.compare:
        a, b = (result[t]["ms_per_file"] for t in ("this", "compare"))  # type: ignore[index]
        print(f"this / compare: {a / b:.2f}x the per-file cost")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
