"""Fault specs: one line of text per ``FaultPlan`` call, so faults can be armed without Python.

Used by ``python -m multusctl.testing serve --fault SPEC`` (at start-up) and by the admin-only
control endpoint ``/_testing/faults`` (while running; see ``multusctl.testing.control``). A spec
is only a spelling of the Python API: ``FaultSpec.arm`` makes exactly one ``FaultPlan.burst``,
``latency`` or ``reset`` call, and a spec is checked by arming it on a scratch plan, so the
rules (count >= 1, an error status, no negative latency) live in ``FaultPlan`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from multusctl.testing.faults import FaultPlan

__all__ = ["GRAMMAR", "FaultSpec", "FaultSpecError", "parse_fault_lines", "parse_fault_spec"]

GRAMMAR = """\
fault SPEC grammar (comma-separated KEY=VALUE items, in any order):
  exactly one action:
    status=CODE        answer with HTTP CODE (400-599) and a Status body   FaultPlan.burst
    latency=SECONDS    delay, then serve normally                          FaultPlan.latency
    reset              drop the connection with a TCP RST                  FaultPlan.reset
  options:
    count=N            fire N times, then disarm (required for status and reset;
                       latency without count lasts until cleared)
    path=PREFIX        only requests whose path starts with PREFIX
    method=VERB        only this HTTP method (repeat for several)
    retry-after=SECS   with status: send a Retry-After header
  examples:
    --fault 'status=500,count=1,path=/api/v1/namespaces/kube-system/serviceaccounts'
    --fault 'status=429,retry-after=1,count=1'   --fault reset,count=1   --fault latency=0.5
Faults fire in the order armed. While serving, an admin (system:masters) can arm more with
POST /_testing/faults (one SPEC per line), list them with GET and clear them with DELETE, e.g.
  kubectl --kubeconfig DIR/admin.kubeconfig create --raw /_testing/faults -f faults.txt"""

_ACTIONS = ("status", "latency", "reset")
_OPTIONS = ("count", "path", "method", "retry-after")


class FaultSpecError(ValueError):
    """A spec that does not parse or that ``FaultPlan`` refuses; the message is one line."""


@dataclass(frozen=True)
class FaultSpec:
    action: str  # "status", "latency" or "reset"
    code: int | None = None
    seconds: float | None = None
    count: int | None = None
    path: str | None = None
    methods: tuple[str, ...] | None = None
    retry_after: int | None = None

    def arm(self, plan: FaultPlan) -> FaultPlan:
        """The one ``FaultPlan`` call this spec stands for."""
        if self.action == "status":
            assert self.code is not None and self.count is not None
            return plan.burst(self.code, self.count, self.retry_after, self.path, methods=self.methods)
        if self.action == "latency":
            assert self.seconds is not None
            return plan.latency(self.seconds, self.path, count=self.count, methods=self.methods)
        assert self.count is not None
        return plan.reset(self.count, self.path, methods=self.methods)


def _number(key: str, value: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(value)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise FaultSpecError(f"{key} must be {what}, got {value!r}") from None


def parse_fault_spec(text: str) -> FaultSpec:
    """Parse one spec (grammar in ``GRAMMAR``); raises ``FaultSpecError`` with a one-line reason."""
    actions: list[str] = []
    values: dict[str, str] = {}
    methods: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if key not in _ACTIONS + _OPTIONS:
            raise FaultSpecError(f"unknown item {item!r} (expected {', '.join(_ACTIONS + _OPTIONS)})")
        if key == "reset" and sep:
            raise FaultSpecError("reset takes no value (use reset,count=N)")
        if key != "reset" and not value:
            raise FaultSpecError(f"{key} needs a value ({key}=...)")
        if key in _ACTIONS:
            actions.append(key)
        if key == "method":
            methods.append(value.upper())
        elif key in values:
            raise FaultSpecError(f"{key} given twice")
        else:
            values[key] = value
    if len(actions) != 1:
        raise FaultSpecError("needs exactly one of status=CODE, latency=SECONDS or reset")
    action = actions[0]
    count = int(_number("count", values["count"], int)) if "count" in values else None
    if action in ("status", "reset") and count is None:
        raise FaultSpecError(f"{action} needs count=N")
    if "retry-after" in values and action != "status":
        raise FaultSpecError("retry-after only goes with status=CODE")
    spec = FaultSpec(
        action=action,
        code=int(_number("status", values["status"], int)) if action == "status" else None,
        seconds=float(_number("latency", values["latency"], float)) if action == "latency" else None,
        count=count,
        path=values.get("path"),
        methods=tuple(methods) or None,
        retry_after=int(_number("retry-after", values["retry-after"], int)) if "retry-after" in values else None,
    )
    try:
        spec.arm(FaultPlan())  # FaultPlan's own checks, on a plan nobody serves from
    except ValueError as exc:
        raise FaultSpecError(str(exc)) from None
    return spec


def parse_fault_lines(text: str) -> list[FaultSpec]:
    """Specs one per line (blank lines and ``#`` comments skipped); the first bad one raises,
    naming its line, so a caller can arm all or nothing."""
    specs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            specs.append(parse_fault_spec(line))
        except FaultSpecError as exc:
            raise FaultSpecError(f"line {number}: {line!r}: {exc}") from None
    return specs
