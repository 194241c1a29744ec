"""Run every benchmark module in bench/ (or those named on the command line)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    wanted = set(sys.argv[1:])
    here = Path(__file__).parent
    for module in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if module.name.startswith("_") or (wanted and module.name not in wanted):
            continue
        mod = importlib.import_module(f"bench.{module.name}")
        if hasattr(mod, "main"):
            print(f"== bench.{module.name}", flush=True)
            mod.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
