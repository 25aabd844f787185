"""The municipal export of declarations: a fixed column order, full ID numbers, audited."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from ..core import crypto
from ..core.timeutil import local_formatter
from ..extensions import db
from ..reference.models import ReferenceItem
from .models import Declaration

HEADER = ["序号", "单位名称", "统一社会信用代码", "姓名", "身份证号", "性别", "年龄", "政治面貌",
          "职称", "最高学历", "最高学位", "最高学历(学位)所在院校", "所学专业", "引进依据及条件",
          "初审通过日期", "复审通过日期"]
GENDERS = {"male": "男", "female": "女"}
COLUMNS = (Declaration.unit_name, Declaration.credit_code, Declaration.name,
           Declaration.id_number_enc, Declaration.gender, Declaration.age,
           Declaration.political_status, Declaration.title, Declaration.education,
           Declaration.degree, Declaration.school, Declaration.major, Declaration.condition,
           Declaration.initial_passed_at, Declaration.second_passed_at)


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
    statement = (select(*COLUMNS).where(Declaration.id.in_(ids_query))
                 .order_by(Declaration.submitted_at, Declaration.id)
                 .execution_options(yield_per=2000))
    for n, row in enumerate(db.session.execute(statement), start=start):
        (unit, code, name, id_enc, gender, age, political, title, education, degree, school,
         major, condition, initial_at, second_at) = row
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
               local_date(initial_at), local_date(second_at)]
