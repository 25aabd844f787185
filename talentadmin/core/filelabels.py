"""What an uploaded file is called on a page, in the reader's language.

A file's stored label is Chinese and stays so: it is the 材料名称 of the download name the
guide prescribes (``单位-姓名-材料名称.ext``). A Chinese page shows it as it is; an English
page shows the name of the file's slot in English — the declaration's social insurance record
and integrity statement, the English evidence text of its introduction condition or of a
unit qualification, the tax payment certificate of its year — with the stored label's
number (``佐证材料2``, ``…（2）``) kept.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

DECLARATION_SLOTS = {
    "social_insurance": _l("Beijing social insurance record"),
    "integrity": _l("Integrity statement"),
}
EVIDENCE_ZH = "佐证材料"  # the declaration's evidence when its condition names none
_NUMBERED = re.compile(r"（(\d+)）$")  # a permit's files of one slot: label（1）, label（2）…
_YEAR = re.compile(r"^(\d{4})")


def _number(stored: str) -> str:
    """`` 2`` for a stored label ending in ``（2）``; empty when none."""
    match = _NUMBERED.search(stored)
    return f" {match.group(1)}" if match else ""


def _condition(file) -> str | None:
    """The introduction condition of a declaration file's declaration (loaded already
    where its files are shown: the session's identity map answers)."""
    from ..declarations.models import Declaration
    from ..extensions import db

    declaration = db.session.get(Declaration, file.declaration_id)
    return declaration.condition if declaration else None


def file_label(file) -> str:
    """The label of ``file`` (a declaration's or a permit revision's) for the reader."""
    from ..reference.models import by_code, english

    stored = file.label or ""
    if not english():
        return stored
    slot = file.slot or ""
    if slot in DECLARATION_SLOTS:
        return str(DECLARATION_SLOTS[slot])
    if slot == "evidence":  # named after the declaration's introduction condition
        item = by_code("condition").get(_condition(file) or "")
        base_zh = (item.evidence_zh if item and item.evidence_zh else EVIDENCE_ZH)
        base = (item.evidence_en if item and item.evidence_en else _("Supporting material"))
        rest = stored[len(base_zh):] if stored.startswith(base_zh) else ""
        return f"{base} {rest}" if rest.isdigit() else base  # 佐证材料2: the second
    if slot.startswith("qualification:"):
        item = by_code("qualification").get(slot.partition(":")[2])
        if item is None or not (item.evidence_en or item.name_en):
            return stored
        return (item.evidence_en or item.name_en) + _number(stored)
    if slot.startswith("tax:"):
        year = _YEAR.match(stored)
        if year is None:
            return stored
        return _("Tax payment certificate %(year)d", year=int(year.group(1))) + _number(stored)
    return stored
