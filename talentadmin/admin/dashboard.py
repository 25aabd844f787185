"""The supervisors' dashboard: one round's declarations counted, timed and charted.

Every figure comes from a handful of GROUP BY queries (never one per declaration):

1. the rounds, for the switch;
2. counts by status and rejection stage;
3. counts by district × field × condition (district and field of the unit's permit
   revision in force), summed per dimension in Python;
4. submissions per UTC hour, turned into local days in Python (portable: ``EXTRACT``
   works on SQLite and PostgreSQL alike, and the local day is exact for any zone whose
   offset is a whole number of hours, such as Asia/Shanghai);
5. the time spent in each review stage, from the status timeline with a window function;
6. the reference labels of the codes shown, in the reader's language.

Charts are inline SVG built here (no JavaScript, nothing from a CDN): every text in them
is escaped through :class:`markupsafe.Markup`.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import abort, request
from flask_admin import BaseView, expose
from flask_babel import get_timezone
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, extract, func, select

from ..core.models import StatusChange
from ..core.params import record_id
from ..declarations import workflow
from ..declarations.models import Declaration, Round
from ..extensions import db
from ..permits.models import Permit, PermitRevision
from ..reference.models import ReferenceItem
from .base import current_staff, deny

ROLES = ("supervisor", "admin")
SUBMITTED_STATES = (workflow.PENDING_INITIAL, workflow.PENDING_SECOND, workflow.COMPLETED,
                    workflow.REJECTED)
STAGE_STATES = {"initial": workflow.PENDING_INITIAL, "second": workflow.PENDING_SECOND}
DIMENSIONS = ("district", "field", "condition")  # reference kinds, in display order


# --- the figures --------------------------------------------------------------------------


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


def status_counts(round_id: int) -> tuple[int, dict[str, int], dict[str, int]]:
    """(drafts, {status: n} without drafts, {stage: n} of the rejected)."""
    rows = db.session.execute(
        select(Declaration.status, Declaration.rejected_stage, func.count(Declaration.id))
        .where(Declaration.round_id == round_id)
        .group_by(Declaration.status, Declaration.rejected_stage)
    ).all()
    by_status: dict[str, int] = dict.fromkeys(SUBMITTED_STATES, 0)
    by_stage: dict[str, int] = dict.fromkeys(workflow.STAGES, 0)
    drafts = 0
    for status, stage, count in rows:
        if status == workflow.DRAFT:
            drafts += count
            continue
        by_status[status] = by_status.get(status, 0) + count
        if status == workflow.REJECTED and stage in by_stage:
            by_stage[stage] += count
    return drafts, by_status, by_stage


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
    stats.drafts, stats.by_status, stats.rejected_by_stage = status_counts(round_.id)
    stats.by_dimension = dimension_counts(round_.id)
    stats.per_day = submissions_per_day(round_.id, tz or get_timezone() or UTC)
    stats.stage_times = stage_times(round_.id)
    return stats


# --- charts -------------------------------------------------------------------------------

BAR = "#007bff"
AXIS = "#6c757d"
TEXT = "#212529"


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="dashboard-chart" id="{id}" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" style="max-width: 100%; height: auto" '
        'role="img" aria-labelledby="{id}-title {id}-desc" font-family="sans-serif">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
    ).format(id=chart_id, w=width, h=height, title=title, desc=desc)


def _summary(rows: list[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in rows)


def _text_width(text: str, size: int) -> float:
    """A rough rendered width: wide (CJK) characters one em, others about half."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.56
               for c in text)


def fit(text: str, width: float, size: int = 12) -> str:
    """``text`` shortened with an ellipsis to about ``width`` units (the full text stays
    in the bar's tooltip and in the table)."""
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int]],
              width: int = 320) -> Markup:
    """A horizontal bar chart: each label on its own line above its bar, the value after."""
    if not rows:
        return Markup("")
    row_height, top = 34, 4
    height = top + row_height * len(rows)
    scale_width = width - 40
    peak = max(value for _label, value in rows) or 1
    parts = [_svg_open(chart_id, width, height, title, _summary(rows))]
    for n, (label, value) in enumerate(rows):
        y = top + n * row_height
        bar = max(round(scale_width * value / peak, 1), 1 if value else 0)
        parts.append(Markup(
            '<g class="bar-row"><title>{label}: {value}</title>'
            '<text x="0" y="{ty}" font-size="12" fill="{text}">{short}</text>'
            '<rect class="bar" x="0" y="{by}" width="{bar}" height="14" rx="2" fill="{fill}"'
            ' data-value="{value}"></rect>'
            '<text x="{vx}" y="{vy}" font-size="12" fill="{text}">{value}</text></g>'
        ).format(label=label, short=fit(label, width), value=value, ty=y + 12, by=y + 16,
                 bar=bar, fill=BAR, vx=bar + 6, vy=y + 28, text=TEXT))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def column_chart(chart_id: str, title: str, rows: list[tuple[str, int]],
                 width: int = 720, height: int = 220) -> Markup:
    """A column chart over days: a baseline, the peak on the y axis, sparse x labels."""
    if not rows:
        return Markup("")
    left, right, top, bottom = 36, 8, 18, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(value for _label, value in rows) or 1
    step = plot_w / len(rows)
    column = min(max(step * 0.7, 1), 48)
    every = max(1, -(-len(rows) // 12))  # at most about twelve x labels
    base = top + plot_h
    parts = [
        _svg_open(chart_id, width, height, title, _summary(rows)),
        Markup('<line x1="{x0}" y1="{b}" x2="{r}" y2="{b}" stroke="{c}"></line>'
               '<line x1="{x0}" y1="{t}" x2="{x0}" y2="{b}" stroke="{c}"></line>'
               '<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="{c}">{peak}</text>'
               '<text x="{lx}" y="{b}" font-size="11" text-anchor="end" fill="{c}">0</text>')
        .format(x0=left, r=width - right, t=top, b=base, c=AXIS, lx=left - 4, ty=top + 4,
                peak=peak),
    ]
    for n, (label, value) in enumerate(rows):
        x = round(left + n * step + (step - column) / 2, 1)
        h = round(plot_h * value / peak, 1)
        centre = round(x + column / 2, 1)
        parts.append(Markup(
            '<g class="column"><title>{label}: {value}</title>'
            '<rect class="bar" x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"'
            ' data-value="{value}"></rect>').format(
                label=label, value=value, x=x, y=round(base - h, 1), w=round(column, 1), h=h,
                fill=BAR))
        if value and len(rows) <= 31:
            parts.append(Markup(
                '<text x="{cx}" y="{y}" font-size="10" text-anchor="middle" fill="{c}">'
                '{value}</text>').format(cx=centre, y=round(base - h - 3, 1), c=TEXT,
                                         value=value))
        if n % every == 0:
            parts.append(Markup(
                '<text x="{cx}" y="{y}" font-size="10" text-anchor="middle" fill="{c}">'
                '{label}</text>').format(cx=centre, y=base + 14, c=AXIS, label=label))
        parts.append(Markup("</g>"))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


# --- the view -------------------------------------------------------------------------------


def _status_rows(stats: RoundStats) -> list[tuple[str, int]]:
    """The statuses for the chart, a rejection split by the stage it happened at."""
    rows = [(str(workflow.LABELS[s]), stats.by_status.get(s, 0))
            for s in SUBMITTED_STATES if s != workflow.REJECTED]
    for stage, label in workflow.STAGES.items():
        rows.append((_("Not approved (%(stage)s)", stage=label),
                     stats.rejected_by_stage.get(stage, 0)))
    return rows


class DashboardView(BaseView):
    """``/admin/dashboard/``: statistics of a round, for supervisors and administrators."""

    def is_accessible(self) -> bool:
        staff = current_staff()
        return staff is not None and staff.has_role(*ROLES)

    def inaccessible_callback(self, name, **kwargs):
        return deny(name)

    @expose("/")
    def index(self):
        rounds = all_rounds()
        wanted = request.args.get("round", type=record_id)
        if wanted is None:
            chosen = default_round(rounds)
        else:
            chosen = next((r for r in rounds if r.id == wanted), None)
            if chosen is None:
                abort(404)
        context = {"rounds": rounds, "chosen": chosen, "stats": None, "charts": {},
                   "tables": {}, "stage_labels": workflow.STAGES,
                   "status_labels": workflow.LABELS, "submitted_states": SUBMITTED_STATES}
        if chosen is not None:
            stats = collect(chosen)
            codes = {kind: {code for code, _n in stats.by_dimension[kind] if code}
                     for kind in DIMENSIONS}
            labels = reference_labels(codes)
            unknown = _("Not given")
            titles = {"district": _("Declarations by district"),
                      "field": _("Declarations by field"),
                      "condition": _("Declarations by introduction condition")}
            tables = {kind: [(labels.get((kind, code), unknown) if code else unknown, count)
                             for code, count in stats.by_dimension[kind]]
                      for kind in DIMENSIONS}
            days = [(day.isoformat(), count) for day, count in stats.per_day]
            charts = {kind: bar_chart(f"chart-{kind}", titles[kind], tables[kind])
                      for kind in DIMENSIONS}
            charts["status"] = bar_chart("chart-status", _("Declarations by status"),
                                         _status_rows(stats), width=440)
            charts["per_day"] = column_chart(
                "chart-per-day", _("Declarations received per day"),
                [(day[5:], count) for day, count in days])
            context.update(stats=stats, charts=charts, tables=tables, titles=titles, days=days)
        return self.render("admin/dashboard.html", **context)
