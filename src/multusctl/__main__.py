from __future__ import annotations

from multusctl.cli.main import main

main()
