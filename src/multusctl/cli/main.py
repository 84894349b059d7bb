"""`multusctl` / `kubectl-multus` entry point.

`check`, `detect` and `nad test FILE` with well-formed options run through `cli.fast` without importing click
(~25 ms of start-up); everything else (help, --version, any usage error, `kubeconfig ...`) goes to the click group in
`cli.group`, which stays the one definition of the command line.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

from multusctl.cli import streams


def __getattr__(name: str) -> Any:
    # `from multusctl.cli.main import cli` (tests, CliRunner) still works; only it pays for click.
    if name == "cli":
        from multusctl.cli.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _click_main(prog_name: str) -> None:
    from multusctl.cli.group import cli

    cli(prog_name=prog_name)


def main() -> None:
    # A short-lived process: the cyclic collector's passes over the import-time objects buy nothing
    # (the fast path only; the click verbs, `kubeconfig create` with its HTTP client, keep it).
    gc.disable()
    streams.install()
    code: int | str | None = 0
    prog_name = "kubectl multus" if sys.argv[0].endswith("kubectl-multus") else "multusctl"
    fast = True
    try:
        try:
            from multusctl.cli.fast import run_fast

            if not run_fast(sys.argv[1:], prog_name):
                fast = False
                gc.enable()
                _click_main(prog_name)
        except SystemExit as exit_:
            code = exit_.code
        except KeyboardInterrupt:
            sys.stderr.write("multusctl: interrupted\n")
            code = 130
        sys.stdout.flush()  # here, not at interpreter exit, so that a full disk is reported
        sys.stderr.flush()
    except streams.OutputFailed as exc:
        code = streams.finish(exc)
    if fast and (code is None or isinstance(code, int)):
        # check/detect/nad test have said everything and flushed it, and they leave no atexit handler, live
        # thread or temp file (nad test's sandbox and IPAM dir are removed in its `finally`, its VERSION
        # threads joined): skip the interpreter's teardown (clearing ~170-200 modules and a final
        # collection, 30-40 ms, a fifth of check's run). The click verbs keep it: their clients clean up
        # at exit.
        os._exit(code or 0)
    sys.exit(code)
