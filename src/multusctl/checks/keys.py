"""Keys and values of the multus config that Multus silently ignores or rejects."""

from __future__ import annotations
