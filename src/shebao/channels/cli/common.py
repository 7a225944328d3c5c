"""What the command groups share besides the actor (``actor.py``): JSON output."""
from __future__ import annotations

import json
import sys


def out(obj) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
