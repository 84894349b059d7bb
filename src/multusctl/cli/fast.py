"""Start-up fast path: `check` and `detect` with well-formed options, parsed without click.

click costs ~25 ms to import, more than the whole check. This parser accepts a strict subset of what the
click commands accept and hands everything else (help, -h, any unknown, malformed or invalid option,
shell completion, an unknown --skip id) back to click, which then gives its usual help text or error; so
an accepted command line means the same thing to both, and every message still comes from click.
"""

from __future__ import annotations

import os
import stat
import sys

from multusctl.layout.model import DISTROS, ROLES

CHECK_FORMATS = ("text", "json", "sarif", "junit")  # cli/check.py FORMATS
DETECT_FORMATS = ("text", "json")  # cli/detect.py DETECT_FORMATS

# The --all-nodes options of `check` (cli/check_all.py declares them with these defaults); the fast path
# never takes them, so an accepted command line has exactly these values.
FLEET_DEFAULTS: dict[str, object] = {"all_nodes": False, "admin_kubeconfig": None, "context": None,
                                     "namespace": "kube-system", "selector": None, "image": None, "concurrency": 20,
                                     "timeout_text": "60s", "qps": 20.0, "mode": "auto"}

# option -> (parameter, choices or None, repeatable)
_NODE = {
    "--root": ("root", None, False),
    "--distro": ("distro", DISTROS, False),
    "--role": ("role", ROLES, False),
    "--conf-dir": ("conf_dir", None, False),
    "--bin-dir": ("bin_dirs", None, True),
}
_CHECK = {
    **_NODE,
    "--output": ("output", CHECK_FORMATS, False),
    "-o": ("output", CHECK_FORMATS, False),
    "--daemon-config": ("daemon_config", None, False),
    "--skip": ("skip", None, True),
}
_DETECT = {**_NODE, "--output": ("output", DETECT_FORMATS, False), "-o": ("output", DETECT_FORMATS, False)}
_CHECK_FLAGS = {"--color": ("color", True), "--no-color": ("color", False), "--verbose": ("verbose", True),
                "-v": ("verbose", True)}


def parse(args: list[str], options: dict[str, tuple[str, tuple[str, ...] | None, bool]],
          flags: dict[str, tuple[str, bool]]) -> dict[str, object] | None:
    """The parameters of a well-formed command line, or None for anything click should judge."""
    values: dict[str, object] = {"root": "/", "distro": None, "role": None, "conf_dir": None, "bin_dirs": (),
                                 "output": "text"}
    if "--skip" in options:
        # --list and --manifest themselves go to click
        values.update(daemon_config=None, skip=(), color=None, verbose=False, list_ids=False, manifests=(),
                      **FLEET_DEFAULTS)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in flags:
            name, flag = flags[arg]
            values[name] = flag
            continue
        if arg.startswith("--"):
            opt, eq, given = arg.partition("=")
            value: str | None = given if eq else None
        elif arg.startswith("-o") and len(arg) > 2:
            opt, value = "-o", arg[2:]
        else:
            opt, value = arg, None
        spec = options.get(opt)
        if spec is None:
            return None  # --help, -h, a positional argument, `--`, an unknown or abbreviated option
        if value is None:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        name, choices, repeat = spec
        if choices is not None and value not in choices:
            return None
        if repeat:
            values[name] = (*values[name], value)  # type: ignore[misc]
        else:
            values[name] = value
    if not _root_ok(str(values["root"])):
        return None
    return values


def _root_ok(root: str) -> bool:
    """What click.Path(file_okay=False, exists=True) accepts for --root."""
    try:
        st = os.stat(root)
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(st.st_mode) and os.access(root, os.R_OK)


def _completion_requested(prog_name: str) -> bool:
    return bool(os.environ.get(f"_{prog_name.replace('-', '_').replace(' ', '_').upper()}_COMPLETE"))


def run_fast(argv: list[str], prog_name: str) -> bool:
    """Run `check`/`detect` if the command line is one the fast path understands; False to hand it to click.

    Runs as click's standalone mode would: the command's own SystemExit goes through, a normal return is
    exit status 0, ^C or EOF prints click's "Aborted!" with status 1."""
    if not argv or argv[0] not in ("check", "detect") or _completion_requested(prog_name):
        return False
    from multusctl.cli import run

    try:
        if argv[0] == "check":
            values = parse(argv[1:], _CHECK, _CHECK_FLAGS)
            if values is None:
                return False
            if run.unknown_skips(values["skip"]):  # type: ignore[arg-type]
                return False  # click says which, with its usage line
            for key in ("list_ids", "manifests", *FLEET_DEFAULTS):
                values.pop(key)
            run.run_check(**values)  # type: ignore[arg-type]
        else:
            values = parse(argv[1:], _DETECT, {})
            if values is None:
                return False
            run.run_detect(**values)  # type: ignore[arg-type]
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")
        sys.stderr.flush()
        sys.stderr.write("Aborted!\n")
        sys.stderr.flush()
        sys.exit(1)
    # Output errors (a closed pipe, a full disk) arrive as streams.OutputFailed, which main() turns into
    # exit 141 or a one-line error: never click's exit status 1, which reads as "errors found".
    sys.exit(0)
