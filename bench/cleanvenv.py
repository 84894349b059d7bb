"""Shared by the start-up benches (bench_check.py, bench_nad_test.py): a clean venv that runs this tree as a
user's `pipx install` would, and an interleaved timer of commands.

Why a clean venv: this sandbox's site-packages holds a `.pth` that imports certifi in every interpreter
(~80 ms), which a user's venv does not run; budgets are judged without it (bench/README.md).
The benches run as scripts (`python bench/X.py`), so bench/ is on sys.path and this imports as `cleanvenv`.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# What pip (23.x, through distlib's ScriptMaker) writes as a console script; the venv's is written the
# same way so that it costs what a pipx install's costs (the `re` import included).
PIP_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from multusctl.cli.main import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


class CleanVenv:
    """A throwaway venv that imports multusctl from this tree and its dependencies from this interpreter.

    One `.pth` in the venv's site-packages lists REPO/src and this interpreter's site-packages. Plain path
    lines of a .pth are only appended to sys.path: the .pth files *inside* those directories are not run,
    so a machine's own start-up hooks there (this sandbox's certifi-importing `.pth`, ~80 ms on every
    interpreter) are left out as they are in a user's pipx venv, while click and yaml stay importable.
    """

    def __init__(self, base: Path) -> None:
        self.dir = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(self.dir)], check=True,
                       capture_output=True)
        self.python = self.dir / "bin" / "python"
        site_dir = subprocess.run(
            # not -S: without site a venv's python reports the base prefix's site-packages
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True, capture_output=True, text=True).stdout.strip()
        import sysconfig

        deps = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
        lines = [str(REPO / "src"), *deps]
        (Path(site_dir) / "multusctl-bench.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.script = self.dir / "bin" / "multusctl"
        self.script.write_text(PIP_SCRIPT.format(python=self.python), encoding="utf-8")
        self.script.chmod(0o755)

    def startup_problems(self, env: dict[str, str]) -> list[str]:
        """Why this venv would not be the clean interpreter it stands for (empty: it is)."""
        code = ("import sys; import multusctl; "
                "print('certifi' in sys.modules, multusctl.__file__, len(sys.modules))")
        # The import of multusctl comes after the test: what a bare start-up loads is what counts.
        proc = subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, env=env,
                              check=False)
        if proc.returncode != 0:
            return [f"clean venv: its python fails: {proc.stderr[-500:]}"]
        certifi, where, _count = proc.stdout.split()
        problems = []
        if certifi != "False":
            problems.append("clean venv: certifi is imported at interpreter start-up (a .pth still runs)")
        if not Path(where).resolve().is_relative_to(REPO / "src"):
            problems.append(f"clean venv: multusctl comes from {where}, not {REPO / 'src'}")
        return problems


class Timer:
    """Wall and CPU (user+sys of the child) seconds of each run of one command."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.cmd, self.env = cmd, env
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.last: subprocess.CompletedProcess[bytes] | None = None

    def run(self, record: bool = True) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        self.last = subprocess.run(self.cmd, capture_output=True, env=self.env, stdin=subprocess.DEVNULL,
                                   check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if record:
            self.wall.append(wall)
            self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

    def line(self, label: str) -> str:
        w, c = statistics.median(self.wall), statistics.median(self.cpu)
        return (f"{label}: median {w * 1000:.1f} ms wall, {c * 1000:.1f} ms cpu over {len(self.wall)} runs"
                f" (wall min {min(self.wall) * 1000:.1f}, max {max(self.wall) * 1000:.1f})")


def interleaved(timers: list[Timer], runs: int) -> None:
    # Alternate the commands so that load from anything else on the machine hits all of them alike.
    for t in timers:
        t.run(record=False)  # warm the page cache (and write bytecode) before timing
    for _ in range(runs):
        for t in timers:
            t.run()
