"""Plugin binaries: is every plugin a config names in a bin dir the runtime and multus search."""

from __future__ import annotations
