"""What the command groups share: the acting account and JSON output."""
from __future__ import annotations

import getpass
import json
import os
import sys

from shebao.core.actor import Actor


def cli_actor() -> Actor:
    """The person at the terminal: ``SHEBAO_ACTOR`` or the OS user, as an administrator."""
    return Actor(id=os.environ.get("SHEBAO_ACTOR") or f"cli:{getpass.getuser()}",
                 role="administrator")


def out(obj) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
