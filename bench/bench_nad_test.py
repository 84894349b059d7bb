#!/usr/bin/env python3
"""Budget of `multusctl nad test` (issue 11): trying a bridge + host-local NAD costs <= 1.5x what an operator's
hand run of the same plugins costs, both timed in the same run, interleaved.

    sudo python bench/bench_nad_test.py [--runs 9] [--json]

The hand run is the shell script an operator would type (HAND below): `ip netns add`, `CNI_COMMAND=ADD`, `CHECK`
and `DEL` of /usr/lib/cni/bridge with the same config (host-local with a private dataDir), `ip netns del`, and
removing the bridge the plugin left. `multusctl nad test FILE --bin-dir /usr/lib/cni -o json` does that plus
start-up, the static checks and reading the sandbox back. Needs root, iproute2 and containernetworking-plugins;
exits non-zero only when a run fails, never because of the timings.

Timed twice, like bench_check.py: as installed here (`python -m multusctl` with PYTHONPATH) and in a clean venv
(cleanvenv.py: the console script of a venv without this machine's certifi-importing `.pth`); the budget is judged
on the clean venv.
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
from pathlib import Path

from cleanvenv import CleanVenv, Timer

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


def _shape(stdout: bytes) -> object:
    """The report without what differs from run to run (sandbox names, MACs, durations): findings and the ok flags."""
    doc = json.loads(stdout)
    return ([f.get("id") for f in doc.get("findings", [])], [a.get("ok") for a in doc.get("attachments", [])])


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
        venv = CleanVenv(tmp)
        # The clean venv gets no PYTHONPATH: its .pth is all a pipx user's interpreter has.
        clean_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        problems = venv.startup_problems(clean_env)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        args_ = ["nad", "test", str(nad), "--bin-dir", BIN, "-o", "json"]
        timers = {"nad test (installed)": Timer([sys.executable, "-m", "multusctl", *args_], env),
                  "nad test (clean venv)": Timer([str(venv.script), *args_], clean_env),
                  "hand run (sh)": Timer(["sh", str(hand)], env),
                  "python -c pass": Timer([sys.executable, "-c", "pass"], env),
                  "venv python -c pass": Timer([str(venv.python), "-c", "pass"], clean_env)}
        for i in range(args.runs + 1):  # the first round warms the page cache and writes the bytecode
            for name, t in timers.items():
                t.run(record=i > 0)
                assert t.last is not None
                if t.last.returncode != 0:
                    # A hand run stopped by `set -e` leaves what it made; the script's own lines are what is timed.
                    for cleanup in (["ip", "netns", "del", HAND_NETNS], ["ip", "link", "del", BRIDGE]):
                        subprocess.run(cleanup, capture_output=True, check=False)
                    said = (t.last.stderr or t.last.stdout).decode(errors="replace").strip()
                    print(f"{name}: exit {t.last.returncode}: {said[-800:]}", file=sys.stderr)
                    return 1
        installed, clean = timers["nad test (installed)"].last, timers["nad test (clean venv)"].last
        assert installed is not None and clean is not None
        if _shape(installed.stdout) != _shape(clean.stdout):
            print("the clean venv's nad test answers differently from the installed one", file=sys.stderr)
            return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(t.wall) for k, t in timers.items()}
    hand_ms = med["hand run (sh)"]
    ratios = {"installed": med["nad test (installed)"] / hand_ms, "clean_venv": med["nad test (clean venv)"] / hand_ms}
    if args.json:
        print(json.dumps({"runs": args.runs, "median_s": med, "min_s": {k: min(t.wall) for k, t in timers.items()},
                          "cpu_s": {k: statistics.median(t.cpu) for k, t in timers.items()},
                          "ratios": ratios, "ratio": ratios["clean_venv"], "budget": BUDGET}, indent=2))
        return 0
    print(f"bridge + host-local, median of {args.runs} interleaved runs:")
    for k, t in timers.items():
        print(f"  {k:22} {med[k] * 1000:7.0f} ms wall (min {min(t.wall) * 1000:.0f} ms), "
              f"{statistics.median(t.cpu) * 1000:.0f} ms cpu")
    for key, label in (("installed", "as installed here"), ("clean_venv", "clean venv (judged)")):
        r = ratios[key]
        verdict = "within" if r <= BUDGET else "OVER"
        print(f"  nad test / hand run, {label}: {r:.2f}x ({verdict} the {BUDGET:g}x budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
