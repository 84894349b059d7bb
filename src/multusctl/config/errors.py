from __future__ import annotations


class ParseError(ValueError):
    """A one-line, user-facing reason a file could not be understood."""


# The reason for a blank file; checks compare against it (an empty 00-multus.conf is MC#1155).
EMPTY_FILE = "file is empty"


def first_line(exc: BaseException, default: str) -> str:
    """The first line of an exception's text (libraries' messages run over several), or `default`."""
    lines = str(exc).splitlines()
    return lines[0] if lines else default


def config_text(data: str | bytes) -> str:
    """A config file's text: UTF-8, not blank; ParseError otherwise (shared by the JSON and YAML parsers)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("not UTF-8 text") from None
    if not data.strip():
        raise ParseError(EMPTY_FILE)
    return data
