from __future__ import annotations


class ParseError(ValueError):
    """A one-line, user-facing reason a file could not be understood."""
