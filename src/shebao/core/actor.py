"""Who is acting: every service call carries an Actor, every audit row names one."""
from __future__ import annotations

from dataclasses import dataclass

from . import regions

ROLES = ("citizen", "employer", "provider", "collection_clerk", "benefits_clerk", "inspector",
         "administrator", "system")


@dataclass(frozen=True)
class Actor:
    """An authenticated principal. ``scope`` is a region subtree root (staff) or None."""

    id: str
    role: str
    scope: str = regions.NATIONAL
    person_id: int | None = None      # citizens: themselves
    employer_id: int | None = None    # employers: their own employees only

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    def covers(self, region_code: str) -> bool:
        return regions.within(region_code, self.scope)


SYSTEM = Actor(id="system", role="system")
