#!/usr/bin/env python3
"""Budget of `multusctl nad test` (issue 11): trying a bridge + host-local NAD costs <= 1.5x what an operator's
hand run of the same plugins costs, both timed in the same run, interleaved.

    sudo python bench/bench_nad_test.py [--runs 9] [--json]

The hand run is the shell script an operator would type (HAND below): `ip netns add`, `CNI_COMMAND=ADD`, `CHECK`
and `DEL` of /usr/lib/cni/bridge with the same config (host-local with a private dataDir), `ip netns del`, and
removing the bridge the plugin left. `multusctl nad test FILE --bin-dir /usr/lib/cni -o json` does that plus
start-up, the static checks and reading the sandbox back. Needs root, iproute2 and containernetworking-plugins;
exits non-zero only when a run fails, never because of the timings.
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

REPO = Path(__file__).resolve().parent.parent
BIN = "/usr/lib/cni"
BUDGET = 1.5
BRIDGE = "mctlbench0"
HAND_NETNS = f"mctl-nad-bench-{os.getpid()}"

HAND = r"""set -e
ns=%(netns)s
data=$(mktemp -d)
conf='{"cniVersion":"1.0.0","name":"bench","type":"bridge","bridge":"%(bridge)s","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"'$data'","ranges":[[{"subnet":"10.77.250.0/24"}]]}}'
ip netns add $ns
ip -n $ns link set lo up
export CNI_CONTAINERID=bench CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=net1 CNI_PATH=%(bin)s
result=$(echo "$conf" | CNI_COMMAND=ADD %(bin)s/bridge)
# CHECK and DEL get the ADD result as prevResult, as libcni passes it
full=$(printf '%%s' "$conf" | sed 's|}$|,"prevResult":'"$(printf '%%s' "$result" | tr -d '\n')"'}|')
echo "$full" | CNI_COMMAND=CHECK %(bin)s/bridge
echo "$full" | CNI_COMMAND=DEL %(bin)s/bridge
ip netns del $ns
ip link del %(bridge)s
rm -rf $data
"""


def nad_file(path: Path) -> None:
    conf = {"cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": BRIDGE, "isGateway": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.250.0/24"}]]}}
    path.write_text(json.dumps({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                                "metadata": {"name": "bench", "namespace": "default"},
                                "spec": {"config": json.dumps(conf)}}))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=120)
    return time.perf_counter() - start, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0 or not os.path.exists(f"{BIN}/bridge") or shutil.which("ip") is None:
        print(f"needs root, iproute2 and {BIN}/bridge (containernetworking-plugins)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-nad-test-"))
    try:
        # As an installed package runs: with bytecode, kept in the temp dir (bench_check.py does the same).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(REPO / "src"), PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
        nad = tmp / "bench.json"
        nad_file(nad)
        hand = tmp / "hand.sh"
        hand.write_text(HAND % {"bin": BIN, "bridge": BRIDGE, "netns": HAND_NETNS})
        cmds = {"multusctl nad test": [sys.executable, "-m", "multusctl", "nad", "test", str(nad), "--bin-dir", BIN,
                                       "-o", "json"],
                "hand run (sh)": ["sh", str(hand)],
                "python -c pass": [sys.executable, "-c", "pass"]}
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for i in range(args.runs + 1):  # the first round warms the page cache and writes the bytecode
            for name, cmd in cmds.items():
                took, proc = timed(cmd, env)
                if proc.returncode != 0:
                    # A hand run stopped by `set -e` leaves what it made; the script's own lines are what is timed.
                    for cleanup in (["ip", "netns", "del", HAND_NETNS], ["ip", "link", "del", BRIDGE]):
                        subprocess.run(cleanup, capture_output=True, check=False)
                    print(f"{name}: exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}",
                          file=sys.stderr)
                    return 1
                if i:
                    times[name].append(took)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["multusctl nad test"] / med["hand run (sh)"]
    if args.json:
        print(json.dumps({"runs": args.runs, "median_s": med, "ratio": ratio, "budget": BUDGET}, indent=2))
        return 0
    print(f"bridge + host-local, median of {args.runs} interleaved runs (wall):")
    for k, v in med.items():
        print(f"  {k:22} {v * 1000:7.0f} ms  (min {min(times[k]) * 1000:.0f} ms)")
    print(f"  nad test / hand run: {ratio:.2f}x ({'within' if ratio <= BUDGET else 'OVER'} the {BUDGET:g}x budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
