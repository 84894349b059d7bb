"""`multusctl explain`: a pasted Multus failure message -> its likely causes, the checks that confirm them,
the fixes. The catalog is data (src/multusctl/data/explain.toml); doctor uses the same matching for the
`multus-log-error` finding.

    from multusctl.explain import explain
    for m in explain(text):          # best first; [] when nothing matched
        m.id, m.title, m.severity, m.excerpt, m.references
        for c in m.causes:           # most likely first
            c.text, c.check, c.fix   # check: a data/checks.toml id, or ''
"""

from __future__ import annotations

from multusctl.explain.catalog import CatalogError, load
from multusctl.explain.match import explain
from multusctl.explain.model import Cause, Match
from multusctl.explain.normalize import MAX_INPUT

__all__ = ["MAX_INPUT", "CatalogError", "Cause", "Match", "explain", "load"]
