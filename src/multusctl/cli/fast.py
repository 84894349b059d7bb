"""Start-up fast path: `check`, `detect` and `nad test FILE` with well-formed options, parsed without click.

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
# `nad test FILE` (cli/nad_test.py, cli/nad.py's common options): the options of a trial of NADs from a file.
NAD_FORMATS: tuple[str, ...] = ("text", "json", "sarif", "junit")  # cli/nad.py FORMATS
_NAD_TEST: dict[str, tuple[str, tuple[str, ...] | None, bool]] = {
    "--bin-dir": ("bin_dirs", None, True),
    "--output": ("output", NAD_FORMATS, False),
    "-o": ("output", NAD_FORMATS, False),
    "--ifname": ("ifname", None, False),
    "--timeout": ("timeout", None, False),
}
_NAD_TEST_DEFAULTS: dict[str, object] = {
    "target": None, "namespace": None, "ifname": "net1", "annotation": None, "pings": (), "keep": False,
    "timeout": "10s", "root": "/", "distro": None, "bin_dirs": (), "kubeconfig": None, "context": None,
    "output": "text", "color": None, "verbose": False}
_DETECT = {**_NODE, "--output": ("output", DETECT_FORMATS, False), "-o": ("output", DETECT_FORMATS, False)}
_CHECK_FLAGS = {"--color": ("color", True), "--no-color": ("color", False), "--verbose": ("verbose", True),
                "-v": ("verbose", True)}


def parse(args: list[str], options: dict[str, tuple[str, tuple[str, ...] | None, bool]],
          flags: dict[str, tuple[str, bool]], values: dict[str, object] | None = None) -> dict[str, object] | None:
    """The parameters of a well-formed command line, or None for anything click should judge. With `values`
    (the defaults of a command taking one argument, `target`), one plain word is that argument."""
    positional = values is not None
    values = dict(values) if values is not None else {"root": "/", "distro": None, "role": None, "conf_dir": None,
                                                      "bin_dirs": (), "output": "text"}
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
        if spec is None and positional and arg and not arg.startswith("-") and values["target"] is None:
            values["target"] = arg
            continue
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


def parse_nad_test(args: list[str]) -> dict[str, object] | None:
    """`nad test FILE` with only --bin-dir, -o, --ifname and --timeout: the parameters click would give
    test_cmd, or None. FILE must be a regular file (anything else may name a NAD in the cluster), and the
    values that test_cmd would refuse (an interface name, a duration) go to click for its usage error."""
    from multusctl.cli.nad_run import valid_ifname

    values = parse(args, _NAD_TEST, {}, _NAD_TEST_DEFAULTS)
    if values is None or not isinstance(values["target"], str) or not os.path.isfile(values["target"]):
        return None
    if not valid_ifname(str(values["ifname"])) or _seconds(str(values["timeout"])) is None:
        return None
    return values


def _seconds(text: str) -> float | None:
    """--timeout as test_cmd reads it (cli/options.seconds with low=0.05), None where it refuses it."""
    from multusctl.provision import duration

    try:
        value = duration.seconds(text)
    except ValueError:
        return None
    return value if value >= 0.05 else None


def _run_nad_test(args: list[str]) -> bool:
    values = parse_nad_test(args)
    if values is None:
        return False
    from multusctl.cli.nad_run import run_test

    seconds = _seconds(str(values.pop("timeout")))
    assert seconds is not None
    run_test(seconds=seconds, **values)  # type: ignore[arg-type]


def run_fast(argv: list[str], prog_name: str) -> bool:
    """Run `check`/`detect` if the command line is one the fast path understands; False to hand it to click.

    Runs as click's standalone mode would: the command's own SystemExit goes through, a normal return is
    exit status 0, ^C or EOF prints click's "Aborted!" with status 1."""
    nad_test = argv[:2] == ["nad", "test"]
    if not argv or (argv[0] not in ("check", "detect") and not nad_test) or _completion_requested(prog_name):
        return False
    from multusctl.cli import run

    try:
        if nad_test:
            if not _run_nad_test(argv[2:]):
                return False
        elif argv[0] == "check":
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
