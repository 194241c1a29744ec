"""Makes the modules named in SITROOM_TEST_BLOCK (comma-separated) impossible to import.

Put this folder on PYTHONPATH of a subprocess: Python imports `sitecustomize` at start-up, and
the finder below then answers every import of a blocked top-level module exactly as a missing
distribution would (`ModuleNotFoundError: No module named 'cv2'`), although it is installed.
That is how the tests see the daemon as a user who installed the core without an extra.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = frozenset(filter(None, os.environ.get("SITROOM_TEST_BLOCK", "").split(",")))


class Blocker(MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


if BLOCKED:
    sys.meta_path.insert(0, Blocker())
