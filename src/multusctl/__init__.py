"""multusctl: make Multus CNI work, and keep working, on k3s and every common distribution."""

from __future__ import annotations

__version__ = "0.1.0"
