"""Host paths versus in-pod paths: the thin plugin reads host paths, the thick daemon reads pod paths."""

from __future__ import annotations
