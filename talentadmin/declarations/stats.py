"""A round's statistics (the supervisors' dashboard): declarations counted and timed.

Every figure comes from a handful of GROUP BY queries (never one per declaration):

1. the rounds, for the switch;
2. counts by status and rejection stage, and of the completed ones reported to the
   municipal bureau by its outcome;
3. counts by district × field × condition (district and field of the unit's permit
   revision in force), summed per dimension in Python;
4. submissions per UTC hour, turned into local days in Python (portable: ``EXTRACT``
   works on SQLite and PostgreSQL alike, and the local day is exact for any zone whose
   offset is a whole number of hours, such as Asia/Shanghai);
5. the time spent in each review stage, from the status timeline with a window function;
6. the reference labels of the codes shown, in the reader's language.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import get_timezone
from sqlalchemy import and_, extract, func, select

from ..core.models import StatusChange
from ..extensions import db
from ..permits.models import Permit, PermitRevision
from ..reference.models import ReferenceItem
from . import workflow
from .models import Declaration, Round

BUREAU_FIGURES = ("reported", workflow.LISTED, workflow.NOT_LISTED, "awaiting")
SUBMITTED_STATES = (workflow.PENDING_INITIAL, workflow.PENDING_SECOND, workflow.COMPLETED,
                    workflow.REJECTED)
STAGE_STATES = {"initial": workflow.PENDING_INITIAL, "second": workflow.PENDING_SECOND}
DIMENSIONS = ("district", "field", "condition")  # reference kinds, in display order


@dataclass
class StageTime:
    stage: str
    label: str
    count: int = 0  # completed stays in the stage
    seconds: float | None = None  # their average

    @property
    def hours(self) -> str:
        return "—" if self.seconds is None else f"{self.seconds / 3600:.1f}"

    @property
    def days(self) -> str:
        return "—" if self.seconds is None else f"{self.seconds / 86400:.1f}"


@dataclass
class RoundStats:
    round: Round
    drafts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    rejected_by_stage: dict[str, int] = field(default_factory=dict)
    by_dimension: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    stage_times: list[StageTime] = field(default_factory=list)
    bureau: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> int:
        return sum(self.by_status.values())


def all_rounds() -> list[Round]:
    return list(db.session.execute(
        select(Round).order_by(Round.opens_at.desc(), Round.id.desc())).scalars())


def default_round(rounds: list[Round], now: datetime | None = None) -> Round | None:
    """The open round, else the newest (``rounds`` newest first)."""
    for round_ in rounds:
        if round_.is_open(now):
            return round_
    return rounds[0] if rounds else None


def status_counts(round_id: int) -> tuple[int, dict[str, int], dict[str, int], dict[str, int]]:
    """(drafts, {status: n} without drafts, {stage: n} of the rejected, the bureau's
    figures) in one GROUP BY. The bureau's figures (``BUREAU_FIGURES``): the completed
    declarations reported to the municipal bureau, on its list of talents proposed for
    introduction, not on it, and still awaiting its decision (a declaration withdrawn after
    the report is not counted)."""
    reported = Declaration.reported_at.is_not(None)
    rows = db.session.execute(
        select(Declaration.status, Declaration.rejected_stage, Declaration.bureau_outcome,
               reported, func.count(Declaration.id))
        .where(Declaration.round_id == round_id)
        .group_by(Declaration.status, Declaration.rejected_stage, Declaration.bureau_outcome,
                  reported)
    ).all()
    by_status: dict[str, int] = dict.fromkeys(SUBMITTED_STATES, 0)
    by_stage: dict[str, int] = dict.fromkeys(workflow.STAGES, 0)
    bureau: dict[str, int] = dict.fromkeys(BUREAU_FIGURES, 0)
    drafts = 0
    for status, stage, outcome, was_reported, count in rows:
        if status == workflow.DRAFT:
            drafts += count
            continue
        by_status[status] = by_status.get(status, 0) + count
        if status == workflow.REJECTED and stage in by_stage:
            by_stage[stage] += count
        if status == workflow.COMPLETED and was_reported:
            bureau["reported"] += count
            bureau[outcome if outcome in workflow.OUTCOMES else "awaiting"] += count
    return drafts, by_status, by_stage, bureau


def dimension_counts(round_id: int) -> dict[str, list[tuple[str | None, int]]]:
    """Submitted declarations by district, field and condition, most frequent first."""
    revision = PermitRevision
    rows = db.session.execute(
        select(revision.registered_district, revision.field, Declaration.condition,
               func.count(Declaration.id))
        .select_from(Declaration)
        .outerjoin(Permit, Permit.enterprise_user_id == Declaration.enterprise_user_id)
        .outerjoin(revision, revision.id == Permit.in_force_id)
        .where(Declaration.round_id == round_id, Declaration.status != workflow.DRAFT)
        .group_by(revision.registered_district, revision.field, Declaration.condition)
    ).all()
    counters: dict[str, Counter] = {kind: Counter() for kind in DIMENSIONS}
    for district, field_, condition, count in rows:
        counters["district"][district] += count
        counters["field"][field_] += count
        counters["condition"][condition] += count
    return {kind: sorted(counter.items(), key=lambda item: (-item[1], item[0] or "\uffff"))
            for kind, counter in counters.items()}


def submissions_per_day(round_id: int, tz) -> list[tuple[date, int]]:
    """Declarations by the local day of their (latest) submission, gaps filled with 0."""
    at = Declaration.submitted_at
    parts = [extract(part, at) for part in ("year", "month", "day", "hour")]
    rows = db.session.execute(
        select(*parts, func.count(Declaration.id))
        .where(Declaration.round_id == round_id, at.is_not(None),
               Declaration.status != workflow.DRAFT)
        .group_by(*parts)
    ).all()
    days: dict[date, int] = defaultdict(int)
    for year, month, day, hour, count in rows:
        utc = datetime(int(year), int(month), int(day), int(hour), tzinfo=UTC)
        days[utc.astimezone(tz).date()] += count
    if not days:
        return []
    first, last = min(days), max(days)
    return [(first + timedelta(n), days.get(first + timedelta(n), 0))
            for n in range((last - first).days + 1)]


def _seconds(start, end):
    """``end - start`` in seconds, in the dialect of the session's database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def stage_times(round_id: int) -> list[StageTime]:
    """Average time of a completed stay in each review stage.

    A stay starts with the change *into* the stage (a submission or resubmission for
    the initial stage, the initial pass for the second) and ends with the next change
    of the same declaration, whose ``from_status`` is the stage. ``LAG`` pairs each
    change with the one before it; a declaration still in a stage adds nothing.
    """
    order = (StatusChange.at, StatusChange.id)
    changes = (
        select(
            StatusChange.from_status.label("left_status"),
            StatusChange.at.label("left_at"),
            func.lag(StatusChange.to_status).over(
                partition_by=StatusChange.target_id, order_by=order).label("entered"),
            func.lag(StatusChange.at).over(
                partition_by=StatusChange.target_id, order_by=order).label("entered_at"),
        )
        .where(StatusChange.target_type == Declaration.__tablename__,
               StatusChange.target_id.in_(
                   select(Declaration.id).where(Declaration.round_id == round_id)))
        .subquery()
    )
    seconds = _seconds(changes.c.entered_at, changes.c.left_at)
    rows = db.session.execute(
        select(changes.c.left_status, func.count(), func.avg(seconds))
        .where(changes.c.left_status.in_(STAGE_STATES.values()),
               and_(changes.c.entered == changes.c.left_status, changes.c.entered_at.is_not(None)))
        .group_by(changes.c.left_status)
    ).all()
    found = {left: (count, None if average is None else float(average))
             for left, count, average in rows}
    result = []
    for stage, state in STAGE_STATES.items():
        count, average = found.get(state, (0, None))
        result.append(StageTime(stage, str(workflow.STAGES[stage]), count, average))
    return result


def reference_labels(codes: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """``label(kind, code)`` for many codes in one query: the name in the reader's
    language, else the code itself."""
    wanted = [(kind, code) for kind, kind_codes in codes.items() for code in kind_codes if code]
    labels = {(kind, code): code for kind, code in wanted}
    if not wanted:
        return labels
    items = db.session.execute(
        select(ReferenceItem).where(
            ReferenceItem.kind.in_(list(codes)),
            ReferenceItem.code.in_({code for _kind, code in wanted}))
    ).scalars()
    for item in items:
        if (item.kind, item.code) in labels:
            labels[(item.kind, item.code)] = item.name
    return labels


def collect(round_: Round, tz=None) -> RoundStats:
    stats = RoundStats(round=round_)
    (stats.drafts, stats.by_status, stats.rejected_by_stage,
     stats.bureau) = status_counts(round_.id)
    stats.by_dimension = dimension_counts(round_.id)
    stats.per_day = submissions_per_day(round_.id, tz or get_timezone() or UTC)
    stats.stage_times = stage_times(round_.id)
    return stats


