"""``citizen-id`` and ``uscc``: an invalid number is an answer (valid: false), not an error."""
from shebao.core.ids import parse_citizen_id, parse_uscc

from . import fields, register


@register("citizen-id")
def citizen_id(req: dict) -> dict:
    return parse_citizen_id(fields.text(req, "id")).as_json()


@register("uscc")
def uscc(req: dict) -> dict:
    return parse_uscc(fields.text(req, "code")).as_json()
