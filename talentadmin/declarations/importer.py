"""The importer of declarations exported from the old system (旧版“朝阳国际人才港”).

The guide (三.3) keeps the personal information declared in the old system, but the business
permission has to be opened again: this importer creates declarations only, never a permit.

The file (CSV or XLSX) has a header row with these columns, in this order (English aliases
accepted, see :data:`COLUMNS`)::

    序号, 单位名称, 统一社会信用代码, 姓名, 身份证号, 性别, 年龄, 政治面貌, 职称, 最高学历,
    最高学位, 院校, 所学专业, 引进依据及条件, 状态, 批次

optionally followed by ``提交时间`` (submission time, local time of the office) and
``未通过原因`` (the reason of a rejection). Any other header refuses the whole file.

Each row is imported whole or refused with its reason:

* the ID number must pass GB 11643 (:func:`~talentadmin.core.validators.validate_id_number`);
  gender and age are taken from it, and a 性别/年龄 in the file that contradicts it refuses
  the row (the age may be the age today or on the 提交时间 of the row);
* the unit is the enterprise account whose *approved* certification holds the credit code;
  unit name and code of the declaration are taken from that certification;
* list values (政治面貌, 最高学历, 最高学位, 引进依据及条件) are the Chinese names (or codes)
  of the reference lists; 状态 is 草稿/待审核/待复审/已完成/未通过 (or the state codes);
* 批次 names an existing round: rounds are never created. ``--round NAME`` puts every row
  into that round instead (the column is then ignored);
* a person (same ID number) already declared by the same unit in the round, or twice in the
  file, is a duplicate.

The file is read completely, and its header checked, before anything is written: an
unreadable file or a wrong header imports nothing. Every imported row gets its declaration,
its timeline row (``StatusChange`` action ``import``) and an audit event
(``declaration.import``) in one savepoint, so a row is either all there or not at all.
A dry run does all of it and rolls back.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..certification import workflow as certification_workflow
from ..certification.models import Certification
from ..core import audit, crypto
from ..core.timeutil import utcnow
from ..core.validators import (
    age_on,
    id_birth_date,
    id_gender,
    mask_id_number,
    strip_controls,
    validate_credit_code,
    validate_id_number,
    whole_number,
)
from ..core.workflow import created
from ..extensions import db
from ..reference.models import ReferenceItem
from . import workflow
from .models import Declaration, Round
from .operations import _same_person

IMPORT_REASON = "旧系统导入"
ACTOR_LABEL = "import-legacy"

# (key, Chinese header, English aliases), in the order of the file.
COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("no", "序号", ("no", "no.", "number", "serial", "#")),
    ("unit_name", "单位名称", ("unit_name", "unit", "unit name", "enterprise")),
    ("credit_code", "统一社会信用代码", ("credit_code", "credit code")),
    ("name", "姓名", ("name",)),
    ("id_number", "身份证号", ("id_number", "id number", "id")),
    ("gender", "性别", ("gender", "sex")),
    ("age", "年龄", ("age",)),
    ("political_status", "政治面貌", ("political_status", "political status")),
    ("title", "职称", ("title",)),
    ("education", "最高学历", ("education",)),
    ("degree", "最高学位", ("degree",)),
    ("school", "院校", ("school",)),
    ("major", "所学专业", ("major",)),
    ("condition", "引进依据及条件", ("condition",)),
    ("status", "状态", ("status",)),
    ("round", "批次", ("round",)),
)
OPTIONAL_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("submitted_at", "提交时间", ("submitted_at", "submitted", "申报时间")),
    ("reason", "未通过原因", ("reason", "原因", "审核意见")),
)
HEADERS = {key: zh for key, zh, _ in (*COLUMNS, *OPTIONAL_COLUMNS)}

STATUSES = {
    "草稿": workflow.DRAFT,
    "待审核": workflow.PENDING_INITIAL,
    "待复审": workflow.PENDING_SECOND,
    "已完成": workflow.COMPLETED,
    "未通过": workflow.REJECTED,
    # the English labels
    "draft": workflow.DRAFT,
    "pending review": workflow.PENDING_INITIAL,
    "pending second review": workflow.PENDING_SECOND,
    "completed": workflow.COMPLETED,
    "not approved": workflow.REJECTED,
}
# and the codes. The old system had these five states only (no ``withdrawn``).
STATUSES.update({state: state for state in set(STATUSES.values())})
GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female",
           "m": "male", "f": "female"}
LIST_COLUMNS = ("political_status", "education", "degree", "condition")
TEXT_COLUMNS = ("title", "school", "major")

ID_REASONS = {
    "digits": "digits of another script than 0-9",
    "length": "not 18 characters",
    "format": "18 digits expected (the last may be X)",
    "lowercase_x": "ends in a lower-case x (GB 11643 writes X)",
    "birth_date": "the birth date in it is not a real date",
    "future": "the birth date in it is in the future",
    "age": "the birth date in it gives an age outside working age (16-80)",
    "check": "wrong check character",
}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


class LegacyFileError(Exception):
    """The file cannot be imported at all (unreadable, wrong header, unknown --round)."""


@dataclass
class RowResult:
    row: int  # the row of the file, the header being row 1
    declaration_id: int | None = None
    reason: str | None = None  # why the row was refused
    masked_id: str | None = None
    name: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return self.reason is None


@dataclass
class Report:
    path: str
    dry_run: bool = False
    rows: list[RowResult] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(1 for r in self.rows if r.imported)

    @property
    def refused(self) -> int:
        return sum(1 for r in self.rows if not r.imported)

    def lines(self) -> Iterator[str]:
        for r in self.rows:
            who = f" ({r.name or '-'}, {r.masked_id or '-'})"
            if not r.imported:
                yield f"row {r.row}: refused: {r.reason}{who}"
                continue
            done = ("would be imported" if self.dry_run
                    else f"imported as declaration #{r.declaration_id}")
            notes = "".join(f"; note: {note}" for note in r.notes)
            yield f"row {r.row}: {done}{who}{notes}"
        yield (f"imported {self.imported}, refused {self.refused}"
               + (" (dry run: nothing saved)" if self.dry_run else ""))


# --- reading ---------------------------------------------------------------------------------


def _norm(value) -> str:
    """A cell's text: NFKC, no control characters (a NUL never reaches the database)."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    return strip_controls(text).strip()


def _header_key(cell) -> str:
    return _norm(cell).lstrip("\ufeff").strip().casefold()


def _aliases(columns) -> dict[str, str]:
    names: dict[str, str] = {}
    for key, zh, english in columns:
        for alias in (zh, key, *english):
            names[_header_key(alias)] = key
    return names


_REQUIRED_NAMES = _aliases(COLUMNS)
_OPTIONAL_NAMES = _aliases(OPTIONAL_COLUMNS)


def expected_header() -> str:
    return ", ".join(zh for _, zh, _ in COLUMNS)


def check_header(header: list) -> list[str]:
    """The keys of the columns of ``header``, or ``LegacyFileError`` naming the expected ones."""
    cells = [_header_key(cell) for cell in header]
    while cells and not cells[-1]:  # spreadsheets often carry empty trailing columns
        cells.pop()
    expected = (f"expected the columns {expected_header()} in this order (English names "
                f"accepted: {', '.join(key for key, _, _ in COLUMNS)}), optionally followed "
                f"by {', '.join(zh for _, zh, _ in OPTIONAL_COLUMNS)}")
    if not cells:
        raise LegacyFileError(f"wrong header: the file is empty; {expected}")
    keys: list[str] = []
    for position, cell in enumerate(cells):
        if position < len(COLUMNS):
            want, zh, _ = COLUMNS[position]
            if _REQUIRED_NAMES.get(cell) != want:
                found = _norm(header[position]) or "(empty)"
                raise LegacyFileError(
                    f"wrong header: column {position + 1} is {found!r}, not {zh!r}; {expected}")
            keys.append(want)
        elif cell in _OPTIONAL_NAMES and _OPTIONAL_NAMES[cell] not in keys:
            keys.append(_OPTIONAL_NAMES[cell])
        else:
            raise LegacyFileError(f"wrong header: unexpected column {position + 1} "
                                  f"{_norm(header[position]) or '(empty)'!r}; {expected}")
    if len(keys) < len(COLUMNS):
        missing = ", ".join(zh for _, zh, _ in COLUMNS[len(keys):])
        raise LegacyFileError(f"wrong header: missing the columns {missing}; {expected}")
    return keys


def _cell(value):
    """A cell as text; whole numbers without ``.0``; dates and times kept as they are."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _norm(value)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LegacyFileError("unreadable file: neither UTF-8 nor GB18030 text")


def _csv_records(path: Path) -> list[list]:
    try:
        text = _decode(path.read_bytes())
    except OSError as error:
        raise LegacyFileError(f"unreadable file: {error.strerror or error}") from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise LegacyFileError(f"unreadable CSV file: {error}") from None


def _xlsx_records(path: Path) -> list[list]:
    from zipfile import BadZipFile

    try:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - a dependency of the project
        raise LegacyFileError("reading XLSX files needs openpyxl") from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as error:
        raise LegacyFileError(f"unreadable XLSX file: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception as error:  # a damaged workbook fails in many ways
        raise LegacyFileError(f"unreadable XLSX file: {error}") from None
    finally:
        workbook.close()


def read_rows(path: str | Path) -> list[dict]:
    """All data rows of a CSV or XLSX file as dicts keyed by column key (see :data:`COLUMNS`),
    plus ``row`` (the row of the file; the header is row 1). Empty rows are skipped.

    The whole file is read and the header checked before this returns: ``LegacyFileError``
    when the file cannot be read or its header is wrong.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        records = _csv_records(path)
    elif suffix in (".xlsx", ".xlsm"):
        records = _xlsx_records(path)
    else:
        raise LegacyFileError(f"unsupported file type {suffix or '(none)'!r}: CSV or XLSX")
    if not records:
        raise LegacyFileError(f"wrong header: the file is empty; expected {expected_header()}")
    keys = check_header(records[0])
    rows = []
    for number, record in enumerate(records[1:], start=2):
        values = [_cell(value) for value in record]
        if not any(values):
            continue
        extra = [value for value in values[len(keys):] if value]
        if extra:
            raise LegacyFileError(f"unreadable file: row {number} has more cells than the "
                                  f"header ({len(values)} for {len(keys)} columns)")
        values += [""] * (len(keys) - len(values))
        rows.append({"row": number, **dict(zip(keys, values, strict=False))})
    return rows


# --- checking one row --------------------------------------------------------------------------


class Refused(Exception):
    """A row is not imported: the message says why."""


class Uncertified(Refused):
    """The row's unit has no approved certification (yet)."""


class _Lookups:
    """Reference lists, units and rounds, each read once per import."""

    def __init__(self, round_override: Round | None) -> None:
        self.round_override = round_override
        self.lists: dict[str, dict[str, str]] = {}
        for kind in LIST_COLUMNS:
            names: dict[str, str] = {}
            items = db.session.execute(
                select(ReferenceItem).where(ReferenceItem.kind == kind)).scalars()
            for item in items:
                for alias in (item.code, item.name_en, item.name_zh):  # zh wins a clash
                    names[_norm(alias).casefold()] = item.code
            self.lists[kind] = names
        self._units: dict[str, list[Certification]] = {}
        self._rounds: dict[str, list[Round]] = {}

    def code(self, kind: str, value: str) -> str | None:
        if not value:
            return None
        code = self.lists[kind].get(_norm(value).casefold())  # as the aliases were
        if code is None:
            raise Refused(f"unknown {HEADERS[kind]} {value!r}")
        return code

    def unit(self, credit_code: str) -> Certification:
        if credit_code not in self._units:
            found = db.session.execute(
                select(Certification)
                .where(Certification.status == certification_workflow.APPROVED,
                       Certification.credit_code == credit_code)
                .order_by(Certification.decided_at.desc(), Certification.id.desc())
            ).scalars().all()
            by_account: dict[int, Certification] = {}
            for certification in found:  # the newest approved one of each account
                by_account.setdefault(certification.enterprise_user_id, certification)
            self._units[credit_code] = list(by_account.values())
        units = self._units[credit_code]
        if not units:
            raise Uncertified(f"unknown enterprise: no approved certification with the credit "
                          f"code {credit_code}")
        if len(units) > 1:
            accounts = ", ".join(f"#{u.enterprise_user_id}" for u in units)
            raise Refused(f"the credit code {credit_code} is approved for several accounts "
                          f"({accounts}): settle the conflict first")
        return units[0]

    def round(self, name: str) -> Round:
        if self.round_override is not None:
            return self.round_override
        if not name:
            raise Refused("no 批次 (round) given: fill it in or pass --round")
        if name not in self._rounds:
            self._rounds[name] = list(db.session.execute(
                select(Round).where(Round.name == name)).scalars())
        rounds = self._rounds[name]
        if not rounds:
            raise Refused(f"unknown round {name!r}: create it first or pass --round")
        if len(rounds) > 1:
            raise Refused(f"several rounds are named {name!r}: pass --round with the one meant")
        return rounds[0]


def _local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def parse_time(value) -> datetime | None:
    """A local date or time of the file as naive UTC (how the database keeps time)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        local = value
    elif isinstance(value, date):
        local = datetime.combine(value, time())
    else:
        local = None
        for fmt in DATE_FORMATS:
            try:
                local = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        if local is None:
            raise Refused(f"unreadable {HEADERS['submitted_at']} {value!r}")
    if local.tzinfo is None:
        local = local.replace(tzinfo=_local_zone())
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _length(key: str, value: str | None) -> str | None:
    limit = getattr(Declaration.__table__.c[key].type, "length", None)
    if value and limit and len(value) > limit:
        raise Refused(f"{HEADERS[key]} is longer than {limit} characters")
    return value or None


@dataclass
class _Checked:
    values: dict
    number: str
    unit: Certification
    round: Round
    notes: list[str]


def check_row(row: dict, lookups: _Lookups, today: date) -> _Checked:
    """Everything about one row that needs no writing; ``Refused`` with the first problem."""
    try:
        number = validate_id_number(str(row.get("id_number") or ""), today=today)
    except ValueError as error:
        raise Refused(f"bad ID number: {ID_REASONS.get(str(error), str(error))}") from None
    name = _length("name", str(row.get("name") or ""))
    if not name:
        raise Refused(f"no {HEADERS['name']} (name)")
    try:
        credit_code = validate_credit_code(str(row.get("credit_code") or ""))
    except ValueError as error:
        raise Refused(f"bad credit code {row.get('credit_code')!r} ({error})") from None
    unit = lookups.unit(credit_code)
    round_ = lookups.round(str(row.get("round") or ""))

    status_text = str(row.get("status") or "")
    status = STATUSES.get(status_text.casefold())
    if status is None:
        raise Refused(f"unknown status {status_text!r} (one of 草稿, 待审核, 待复审, 已完成, "
                      f"未通过)")

    gender = id_gender(number)
    given_gender = str(row.get("gender") or "")
    if given_gender and GENDERS.get(given_gender.casefold()) != gender:
        raise Refused(f"{HEADERS['gender']} {given_gender!r} contradicts the ID number")
    submitted_at = parse_time(row.get("submitted_at"))
    born = id_birth_date(number)
    age = age_on(born, today)
    given_age = str(row.get("age") or "")
    if given_age:
        try:
            given = whole_number(given_age)  # 0-9, full-width folded
        except ValueError:
            raise Refused(f"{HEADERS['age']} {given_age!r} is not a whole number") from None
        allowed = {age} | ({age_on(born, submitted_at.date())} if submitted_at else set())
        if given not in allowed:
            raise Refused(f"{HEADERS['age']} {given_age} contradicts the ID number "
                          f"(age {age} today)")
        age = given

    values = {
        "name": name, "gender": gender, "age": age, "status": status,
        **{key: lookups.code(key, str(row.get(key) or "")) for key in LIST_COLUMNS},
        **{key: _length(key, str(row.get(key) or "")) for key in TEXT_COLUMNS},
        "submitted_at": None if status == workflow.DRAFT else (submitted_at or utcnow()),
        "reason": None,
    }
    if status == workflow.REJECTED:
        values["reason"] = str(row.get("reason") or "") or IMPORT_REASON
    notes = []
    unit_name = str(row.get("unit_name") or "")
    if unit_name and unit_name != _norm(unit.name):
        notes.append(f"单位名称 in the file {unit_name!r} differs from the certified "
                     f"{unit.name!r} (the certified name is kept)")
    return _Checked(values, number, unit, round_, notes)


# --- importing ---------------------------------------------------------------------------------


def _write(checked: _Checked, *, row: int, source: str) -> Declaration:
    """The declaration, its timeline row and its audit event (inside the caller's savepoint)."""
    values = dict(checked.values)
    declaration = Declaration(
        enterprise_user_id=checked.unit.enterprise_user_id, round_id=checked.round.id,
        unit_name=checked.unit.name or "", credit_code=checked.unit.credit_code, **values)
    declaration.set_id_number(checked.number)
    # the same person declared by another unit in the round: flagged as the portal does
    elsewhere = [other for other in _same_person(checked.round.id, declaration.id_hash, None)
                 if other.status != workflow.DRAFT]
    declaration.duplicate = bool(elsewhere)
    for other in elsewhere:
        other.duplicate = True
    db.session.add(declaration)
    db.session.flush()
    created(declaration, workflow.WORKFLOW, "import", actor_label=ACTOR_LABEL,
            reason=declaration.reason or IMPORT_REASON,
            detail={"source": source, "row": row, "round_id": checked.round.id,
                    "status": declaration.status, "credit_code": declaration.credit_code,
                    "enterprise_user_id": declaration.enterprise_user_id})
    return declaration


def import_rows(rows: Iterable[dict], *, dry_run: bool = False, round_name: str | None = None,
                source: str = "", today: date | None = None,
                keep_pending: bool = False,
                progress: Callable[[int, int], None] | None = None) -> Report:
    """Import rows read by :func:`read_rows`, then commit (or roll back on a dry run).

    ``keep_pending``: a row refused only because its unit has no approved certification is
    kept as a :class:`~talentadmin.jobs.models.PendingImport` (imported once the unit is
    certified) and its reason says so.

    ``LegacyFileError`` when ``round_name`` names no round (or several): nothing is
    imported then. Each good row is written in its own savepoint. ``progress(done, total)``
    is called every ``PROGRESS_EVERY`` rows and after the last one (before the commit)."""
    today = today or date.today()
    report = Report(path=source, dry_run=dry_run)
    try:
        override = None
        if round_name is not None:
            found = list(db.session.execute(
                select(Round).where(Round.name == round_name.strip())).scalars())
            if len(found) != 1:
                raise LegacyFileError(f"--round {round_name!r}: " + (
                    "no round has this name" if not found else "several rounds have this name"))
            override = found[0]
        lookups = _Lookups(override)
        rows = list(rows)
        # One event for the run, written first: it also opens the database transaction
        # before the first savepoint (pysqlite begins a transaction only at a write, and a
        # SAVEPOINT outside one would commit on release).
        run_event = audit.record("declaration.import_file", actor_label=ACTOR_LABEL,
                                 detail={"source": source, "rows": len(rows)})
        db.session.flush()
        seen: dict[tuple[int, int, str], int] = {}
        for done, row in enumerate(rows):
            if progress is not None and done and done % PROGRESS_EVERY == 0:
                progress(done, len(rows))
            result = RowResult(row=row["row"], name=str(row.get("name") or ""),
                               masked_id=mask_id_number(str(row.get("id_number") or "")))
            report.rows.append(result)
            try:
                checked = check_row(row, lookups, today)
                key = (checked.round.id, checked.unit.enterprise_user_id,
                       crypto.blind_index(checked.number))
                if key in seen:
                    raise Refused(f"duplicate: the same person as row {seen[key]} (same unit "
                                  f"and round)")
                existing = db.session.execute(
                    select(Declaration.id).where(
                        Declaration.round_id == key[0], Declaration.enterprise_user_id == key[1],
                        Declaration.id_hash == key[2])).scalar_one_or_none()
                if existing is not None:
                    raise Refused(f"duplicate: already declared by this unit in the round "
                                  f"{checked.round.name!r} (declaration #{existing})")
                result.notes += checked.notes
                try:
                    with db.session.begin_nested():
                        declaration = _write(checked, row=row["row"], source=source)
                except SQLAlchemyError as error:
                    cause = getattr(error, "orig", None) or error
                    raise Refused("the database refused the row "
                                  f"({type(cause).__name__})") from None
                seen[key] = row["row"]
                result.declaration_id = declaration.id
            except Refused as refusal:
                result.reason = str(refusal)
                if keep_pending and isinstance(refusal, Uncertified):
                    _keep(row, source, round_name)
                    result.reason += PENDING_NOTE
        if progress is not None:
            progress(len(rows), len(rows))
        run_event.detail = {"source": source, "rows": len(rows), "imported": report.imported,
                            "refused": report.refused}
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return report


PROGRESS_EVERY = 500  # rows between two progress reports
PENDING_NOTE = "; kept: imported when this unit's certification is approved"


def _keep(row: dict, source: str, round_name: str | None) -> None:
    from ..jobs.models import PendingImport

    db.session.add(PendingImport(
        credit_code=validate_credit_code(str(row.get("credit_code") or "")),
        row=json.dumps(row, ensure_ascii=False, default=str), source=source,
        round_name=round_name))


def import_file(path: str | Path, *, dry_run: bool = False, round_name: str | None = None,
                keep_pending: bool = False, source: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> Report:
    """Read ``path`` (CSV or XLSX) and import its rows: see the module's docstring."""
    rows = read_rows(path)
    return import_rows(rows, dry_run=dry_run, round_name=round_name,
                       source=source or Path(path).name, keep_pending=keep_pending,
                       progress=progress)
