"""The whole run as one call, for other verbs (`bundle --all-nodes`): the json document of `check --all-nodes`,
or the run's Ctrl-C (KeyboardInterrupt) or SIGTERM (multusctl.interrupt.Interrupted) once it has cleaned up."""

from __future__ import annotations

from typing import Any

from multusctl.fleet import aggregate, engine, podspec


def all_nodes_document(api: Any, selector: str | None = None, namespace: str = "kube-system",
                       image: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
    opts = engine.Options(selector=selector, namespace=namespace, image=image or podspec.DEFAULT_IMAGE,
                          timeout=timeout)
    result = engine.run(api, opts)
    if result.interrupted:  # the run has removed what it made; the interrupt goes on, with its signal
        from multusctl.interrupt import Interrupted

        raise Interrupted(result.exit_status - 128) if result.exit_status != 130 else KeyboardInterrupt()
    return aggregate.document(result)
