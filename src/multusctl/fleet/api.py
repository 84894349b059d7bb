"""The whole run as one call, for other verbs (`bundle --all-nodes`): the json document of `check --all-nodes`."""

from __future__ import annotations

from typing import Any

from multusctl.fleet import aggregate, engine, podspec


def all_nodes_document(api: Any, selector: str | None = None, namespace: str = "kube-system",
                       image: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
    opts = engine.Options(selector=selector, namespace=namespace, image=image or podspec.DEFAULT_IMAGE,
                          timeout=timeout)
    return aggregate.document(engine.run(api, opts))
