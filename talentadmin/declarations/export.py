"""The municipal export of declarations: a fixed column order, full ID numbers, audited.

The layout is the bureau's, in Chinese whatever the language of the back office: the
person's columns (the first sixteen, unchanged), then the unit's as its business
permission in force states them (the guide's 开通权限 form: 单位资质, 注册地所在区,
纳税所在区, 从事领域, 单位联系人及联系方式) — empty for a unit without one (a
declaration imported from the old system); last, the bureau's 拟引进人才名单 outcome and its
date once recorded. Appended, not interleaved: a reader of the sixteen-column file finds
every column where it was.

:func:`attachments` lists the files of the exported rows for the ZIP of attachments, each
named ``单位-姓名-材料名称.ext`` as the guide names them (:class:`ZipNames`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from sqlalchemy import select

from ..core import crypto
from ..core.timeutil import local_formatter
from ..extensions import db
from ..permits.models import Permit, PermitRevision
from ..reference.models import ReferenceItem
from .models import Declaration, DeclarationFile

HEADER = ["序号", "单位名称", "统一社会信用代码", "姓名", "身份证号", "性别", "年龄", "政治面貌",
          "职称", "最高学历", "最高学位", "最高学历(学位)所在院校", "所学专业", "引进依据及条件",
          "初审通过日期", "复审通过日期",
          "单位资质", "注册地所在区", "纳税所在区", "从事领域", "单位联系人", "联系电话",
          "拟引进人才名单", "市级部门结果日期"]
# The bureau's outcome as the office writes it (the layout is Chinese in either language).
OUTCOME_TEXT = {"listed": "在名单中", "not_listed": "不在名单中"}
# Columns whose digit strings a CSV keeps as text for Excel (``core.export.excel_text``).
TEXT_COLUMNS = tuple(HEADER.index(title) for title in ("统一社会信用代码", "身份证号", "联系电话"))
GENDERS = {"male": "男", "female": "女"}
COLUMNS = (Declaration.unit_name, Declaration.credit_code, Declaration.name,
           Declaration.id_number_enc, Declaration.gender, Declaration.age,
           Declaration.political_status, Declaration.title, Declaration.education,
           Declaration.degree, Declaration.school, Declaration.major, Declaration.condition,
           Declaration.initial_passed_at, Declaration.second_passed_at,
           PermitRevision.qualifications, PermitRevision.registered_district,
           PermitRevision.tax_district, PermitRevision.field, PermitRevision.contact_name,
           PermitRevision.contact_mobile, Declaration.bureau_outcome,
           Declaration.bureau_decided_on)


def _names() -> dict[tuple[str, str], str]:
    return {(kind, code): name for kind, code, name in db.session.execute(
        select(ReferenceItem.kind, ReferenceItem.code, ReferenceItem.name_zh))}


def _local_dates():
    """UTC datetime -> local date text (see ``local_formatter``)."""
    from flask_babel import get_timezone

    return local_formatter(get_timezone(), "%Y-%m-%d")


def rows(ids_query, start: int = 1) -> Iterator[list]:
    """One list per declaration of ``ids_query`` (a select of ids, or a list of them), in
    submission order, numbered from ``start``, fetched in chunks (``yield_per``): memory
    stays flat at any size."""
    names = _names()
    decrypt = crypto.decrypter()
    local_date = _local_dates()
    statement = (select(*COLUMNS).select_from(Declaration)
                 .outerjoin(Permit, Permit.enterprise_user_id == Declaration.enterprise_user_id)
                 .outerjoin(PermitRevision, PermitRevision.id == Permit.in_force_id)
                 .where(Declaration.id.in_(ids_query))
                 .order_by(Declaration.submitted_at, Declaration.id)
                 .execution_options(yield_per=2000))
    for n, row in enumerate(db.session.execute(statement), start=start):
        (unit, code, name, id_enc, gender, age, political, title, education, degree, school,
         major, condition, initial_at, second_at, qualifications, registered, tax, field,
         contact, mobile, outcome, outcome_on) = row
        try:
            number = decrypt(bytes(id_enc)) if id_enc else ""
        except crypto.DecryptError:  # a data key that does not match: never a broken file
            number = ""
        yield [n, unit, code, name, number,
               GENDERS.get(gender or "", ""), age,
               names.get(("political_status", political), political), title,
               names.get(("education", education), education),
               names.get(("degree", degree), degree), school, major,
               names.get(("condition", condition), condition),
               local_date(initial_at), local_date(second_at),
               "、".join(names.get(("qualification", q), q) for q in qualifications or ()),
               names.get(("district", registered), registered),
               names.get(("district", tax), tax), names.get(("field", field), field),
               contact, mobile, OUTCOME_TEXT.get(outcome or "", ""),
               outcome_on.isoformat() if outcome_on else ""]


def filename(kind: str, total: int) -> str:
    """The download name of a municipal export of ``total`` rows (``kind``: csv, xlsx, or
    zip for the attachments)."""
    if kind == "zip":
        return f"人才引进需求申报材料-{total}.zip"
    return f"人才引进需求申报-{total}.{kind}"


def attachments(ids: list[int]) -> Iterator[tuple[int, str, str, str, object]]:
    """``(declaration id, unit, person, 材料名称, attachment)`` for every file of the
    declarations ``ids``, in the order of ``ids`` and, within one, as uploaded."""
    position = {declaration_id: n for n, declaration_id in enumerate(ids)}
    found = db.session.execute(
        select(Declaration.id, Declaration.unit_name, Declaration.name, DeclarationFile)
        .join(DeclarationFile, DeclarationFile.declaration_id == Declaration.id)
        .where(Declaration.id.in_(ids))).all()
    found.sort(key=lambda row: (position[row[0]], row[3].id))
    for declaration_id, unit, name, item in found:
        yield declaration_id, unit or "", name or "", item.label or "", item.attachment


# Not allowed in a file name on Windows (and the slash nowhere): each becomes "_".
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
NAME_LIMIT = 120  # characters of a name's stem: a ZIP unpacked deep on Windows stays < 260


def name_part(text: str) -> str:
    """``text`` fit for a part of a file name: control and invisible format characters
    dropped (a right-to-left override could make ``.pdf`` read as something else; a rare
    character a name holds in the private use area is kept), the
    characters Windows refuses replaced with ``_``, whitespace runs made one space."""
    text = "".join(char for char in unicodedata.normalize("NFC", text)
                   if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf", "Cs"))
    return " ".join(_UNSAFE.sub("_", text).split())


class ZipNames:
    """The names of a ZIP's entries: ``单位-姓名-材料名称.ext`` made safe
    (:func:`name_part`; no leading dot, at most ``NAME_LIMIT`` characters) and unique in
    the archive — the second ``X.pdf`` (or ``x.PDF``: Windows ignores case) is
    ``X (2).pdf``, the third ``X (3).pdf``."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def name(self, unit: str, person: str, label: str, extension: str) -> str:
        stem = "-".join(name_part(part) for part in (unit, person, label))
        stem = stem.lstrip(". ")[:NAME_LIMIT].rstrip(". ") or "_"
        candidate, n = stem + extension, 1
        while candidate.casefold() in self.taken:
            n += 1
            candidate = f"{stem} ({n}){extension}"
        self.taken.add(candidate.casefold())
        return candidate
