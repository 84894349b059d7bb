"""``/_testing/faults``: arm, list and clear faults on a running cluster over its own HTTPS port.

Only ``system:masters`` users (the admin kubeconfig's client certificate) may use it, everyone else
gets the 403 a real apiserver gives for a path they may not use. The endpoint is exempt from the
fault plan itself, so an armed reset never eats the request that would clear it.

* ``POST``   body: fault specs, one per line (``multusctl.testing.faultspec``); all or none are
  armed; 201 ``{"armed": N}`` (faults now armed in total) or 400 naming the bad line.
* ``GET``    200 ``{"armed": N, "fired": M}``.
* ``DELETE`` clears every armed fault; 200 ``{"armed": 0, ...}``.
"""

from __future__ import annotations

from typing import Any

from multusctl.testing.auth import SYSTEM_MASTERS, RequestAttributes, UserInfo, forbidden_status
from multusctl.testing.faults import FaultPlan
from multusctl.testing.faultspec import FaultSpecError, parse_fault_lines
from multusctl.testing.store import ApiError, bad_request

CONTROL_PREFIX = "/_testing/"
FAULTS_PATH = "/_testing/faults"


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX.rstrip("/") or path.startswith(CONTROL_PREFIX)


def handle_control(plan: FaultPlan, method: str, path: str, body: bytes, user: UserInfo) -> tuple[int, Any]:
    """``(code, JSON body)`` for a request to a control path; raises ``ApiError`` on refusal."""
    if SYSTEM_MASTERS not in user.groups:
        status = forbidden_status(user, RequestAttributes(verb=method.lower(), api_group="", resource="",
                                                          resource_request=False, path=path))
        raise ApiError(403, "Forbidden", status["message"], status.get("details"))
    if path != FAULTS_PATH:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if method == "POST":
        try:
            specs = parse_fault_lines(body.decode("utf-8", "replace"))
        except FaultSpecError as exc:
            raise bad_request(f"invalid fault spec: {exc}") from None
        if not specs:
            raise bad_request("invalid fault spec: the body holds no fault spec")
        for spec in specs:
            spec.arm(plan)
        return 201, {"armed": plan.armed, "fired": len(plan.fired)}
    if method == "DELETE":
        plan.clear()
    elif method != "GET":
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    return 200, {"armed": plan.armed, "fired": len(plan.fired)}
