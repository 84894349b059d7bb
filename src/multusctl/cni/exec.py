"""One CNI plugin call: the CNI_* environment, the config on stdin, a deadline, and the result or the error
decoded (CNI spec: an error result is `{"code", "msg", "details"}` on stdout with a non-zero exit).

The plugin runs in its own session so that a deadline or Ctrl-C kills it with everything it started (the
dhcp plugin and some IPAM plugins fork), and never sees our terminal's signals before we decide.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from typing import Any

from multusctl.records import dataclass, field

# CNI spec "Error" section: the well-known codes (100+ are the plugin's own).
CODES = {
    1: "incompatible CNI version",
    2: "unsupported field in network configuration",
    3: "container unknown or does not exist",
    4: "invalid necessary environment variables",
    5: "I/O failure",
    6: "failed to decode content",
    7: "invalid network config",
    11: "try again later",
    50: "the plugin is not available",
    51: "the plugin is not available; existing containers may have limited connectivity",
}
MAX_OUTPUT = 1 << 20


@dataclass(frozen=True)
class CniError:
    code: int
    msg: str
    details: str = ""

    def text(self) -> str:
        meaning = CODES.get(self.code, "plugin-specific error" if self.code >= 100 else "unknown code")
        extra = f" ({self.details})" if self.details and self.details != self.msg else ""
        return f"CNI error {self.code} ({meaning}): {self.msg}{extra}"


@dataclass
class Call:
    """What one plugin call did."""

    plugin: str
    command: str
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    result: dict[str, Any] | None = None
    error: CniError | None = None
    timed_out: bool = False
    missing: bool = False
    duration_ms: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (self.returncode == 0 and self.error is None and not self.timed_out and not self.missing
                and "bad_output" not in self.facts)

    def failure(self) -> str:
        """One line: why the call failed (empty when it did not)."""
        if self.missing:
            return f"failed to find plugin {self.plugin!r} in CNI_PATH"
        if self.timed_out:
            return f"{self.plugin} {self.command} did not finish within {self.facts.get('timeout', 0):g} s; killed"
        if self.error is not None:
            return self.error.text()
        if self.returncode is not None and self.returncode < 0:
            try:
                name = signal.Signals(-self.returncode).name
            except ValueError:
                name = f"signal {-self.returncode}"
            return f"{self.plugin} {self.command} crashed ({name}){_tail(self.stderr)}"
        if self.returncode:
            return (f"{self.plugin} {self.command} exited {self.returncode} without a CNI error result"
                    f"{_tail(self.stderr)}")
        if self.facts.get("bad_output"):
            return f"{self.plugin} {self.command} printed no JSON result: {self.facts['bad_output']}"
        return ""


def _tail(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return f": {lines[-1][:300]}" if lines else ""


def find(plugin: str, cni_path: list[str]) -> str | None:
    """libcni's FindInPath: the first regular file named `plugin` in the CNI_PATH dirs."""
    for d in cni_path:
        p = os.path.join(d, plugin)
        if os.path.isfile(p):
            return p
    return None


def decode_error(out: str) -> CniError | None:
    try:
        doc = json.loads(out)
    except ValueError:
        return None
    if isinstance(doc, dict) and "code" in doc and isinstance(doc.get("code"), int):
        return CniError(int(doc["code"]), str(doc.get("msg", "")), str(doc.get("details", "") or ""))
    return None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run(plugin: str, command: str, conf: dict[str, Any] | bytes, cni_path: list[str], *, netns: str = "",
        container_id: str = "", ifname: str = "", args: str = "", timeout: float = 10.0) -> Call:
    """One call of `plugin` (a name looked up in `cni_path`). Never raises for what the plugin does;
    KeyboardInterrupt and SystemExit kill the plugin first, then propagate."""
    call = Call(plugin=plugin, command=command, facts={"timeout": timeout})
    path = find(plugin, cni_path)
    if path is None:
        call.missing = True
        return call
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
           "CNI_CONTAINERID": container_id, "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_ARGS": args,
           "CNI_PATH": os.pathsep.join(cni_path)}
    stdin = conf if isinstance(conf, bytes) else json.dumps(conf).encode()
    start = time.monotonic()
    proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True, close_fds=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        call.timed_out = True
        out, err = b"", b""
    except BaseException:
        _kill(proc)
        raise
    finally:
        call.duration_ms = round((time.monotonic() - start) * 1000, 1)
    call.returncode = None if call.timed_out else proc.returncode
    call.stdout = out[:MAX_OUTPUT].decode("utf-8", "replace")
    call.stderr = err[:MAX_OUTPUT].decode("utf-8", "replace")
    if call.timed_out:
        return call
    call.error = decode_error(call.stdout) if call.stdout.strip() else None
    if call.returncode == 0 and call.error is None and command in ("ADD", "VERSION"):
        try:
            doc = json.loads(call.stdout)
        except ValueError as exc:
            call.facts["bad_output"] = str(exc) if call.stdout.strip() else "empty output"
        else:
            call.result = doc if isinstance(doc, dict) else None
    return call


def versions(plugin_path: str, timeout: float = 2.0) -> tuple[str, ...] | None:
    """The CNI versions a plugin binary supports (CNI_COMMAND=VERSION), None when it does not answer."""
    call = run(os.path.basename(plugin_path), "VERSION", {"cniVersion": "1.0.0"}, [os.path.dirname(plugin_path)],
               timeout=timeout)
    got = (call.result or {}).get("supportedVersions") if call.ok else None
    if isinstance(got, list) and all(isinstance(v, str) for v in got):
        return tuple(got)
    return None
