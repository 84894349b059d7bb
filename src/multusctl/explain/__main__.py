from __future__ import annotations

from multusctl.explain.markdown import main

raise SystemExit(main())
