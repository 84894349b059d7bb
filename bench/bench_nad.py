#!/usr/bin/env python3
"""Budget of `multusctl nad validate` (DESIGN.md, Budgets): 10,000 NADs validate in < 2 s wall including
start-up, printed beside `python -c pass` and `kubectl version --client` timed in the same run.

    python bench/bench_nad.py [--runs 5] [--count 10000] [--json]

The NADs are a realistic mix (bridge/macvlan/ptp with host-local, whereabouts and static IPAM, conflists with
tuning and portmap, a few broken ones so findings are rendered), as YAML (multi-document) and as a JSON `List`
(`kubectl get net-attach-def -A -o json`). Exits non-zero only when something is broken (status 2 or more, a
traceback), never because of the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BUDGET_S = 2.0


def nads(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        net = f"10.{100 + i // 4096 % 100}.{i // 16 % 256}.{(i % 16) * 16}/28"
        ipam: dict[str, Any] = [{"type": "host-local", "ranges": [[{"subnet": net}]]},
                                {"type": "whereabouts", "range": net}, {"type": "static",
                                                                       "addresses": [{"address": net}]}][i % 3]
        plugin: dict[str, Any] = [{"type": "bridge", "bridge": f"br{i % 50}"}, {"type": "macvlan", "master": "eth0"},
                                  {"type": "ptp"}][i % 3]
        conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": f"net{i}", **plugin, "ipam": ipam}
        if i % 5 == 0:
            conf = {"cniVersion": "1.0.0", "name": f"net{i}", "plugins": [
                {**plugin, "ipam": ipam}, {"type": "tuning", "mtu": 1400},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}
        text = json.dumps(conf) if i % 997 else "{broken"
        out.append({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                    "metadata": {"name": f"net{i}", "namespace": f"ns{i % 40}"}, "spec": {"config": text}})
    return out


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, proc.returncode, proc.stderr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-nad-"))
    # Timed as an installed package runs: with bytecode (PYTHONDONTWRITEBYTECODE, set by some sandboxes, would
    # recompile every module on every run, ~0.1 s here), kept in the temp dir (bench_check.py does the same).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(REPO / "src"), PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    try:
        import yaml

        items = nads(args.count)
        (tmp / "nads.yaml").write_text(yaml.safe_dump_all(items, sort_keys=False))
        (tmp / "nads.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        # whereabouts is not packaged here: a stand-in binary answers VERSION, so the NADs are clean but for the
        # few broken ones and the report stays the size a healthy cluster's is.
        (tmp / "bin").mkdir()
        if os.path.exists("/usr/lib/cni/static"):
            shutil.copy("/usr/lib/cni/static", tmp / "bin" / "whereabouts")
        base = [sys.executable, "-m", "multusctl", "nad", "validate", "--bin-dir", "/usr/lib/cni", "--bin-dir",
                str(tmp / "bin"), "-o", "json"]
        cmds = {"nad validate (YAML)": [*base, str(tmp / "nads.yaml")],
                "nad validate (JSON List)": [*base, str(tmp / "nads.json")],
                "python -c pass": [sys.executable, "-c", "pass"]}
        if shutil.which("kubectl"):
            cmds["kubectl version --client"] = ["kubectl", "version", "--client"]
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for name, cmd in cmds.items():  # warm-up: page cache, pyc files
            _t, rc, err = timed(cmd, env)
            if rc >= 2 or "Traceback" in err:
                print(f"{name}: exit {rc}: {err.strip()[-500:]}", file=sys.stderr)
                return 1
        for _ in range(args.runs):  # interleaved, so load from elsewhere hits every command alike
            for name, cmd in cmds.items():
                times[name].append(timed(cmd, env)[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ref = med.get("kubectl version --client") or med["python -c pass"]
    if args.json:
        print(json.dumps({"count": args.count, "runs": args.runs, "median_s": med, "budget_s": BUDGET_S}, indent=2))
        return 0
    print(f"{args.count} NADs, median of {args.runs} runs (wall, including start-up):")
    for k, v in med.items():
        print(f"  {k:28} {v * 1000:8.0f} ms  {v / ref:5.1f}x reference  {v / med['python -c pass']:5.1f}x python")
    for k in ("nad validate (YAML)", "nad validate (JSON List)"):
        print(f"  {k}: {'within' if med[k] < BUDGET_S else 'OVER'} the {BUDGET_S:g} s budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
