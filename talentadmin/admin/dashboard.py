"""The supervisors' dashboard: one round's statistics (``declarations.stats``) charted.

Charts are inline SVG built here (no JavaScript, nothing from a CDN): every text in them
is escaped through :class:`markupsafe.Markup`.
"""


from __future__ import annotations

import unicodedata
from datetime import timedelta

from flask import abort, current_app, request
from flask_admin import expose
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select

from ..core.params import record_id
from ..core.timeutil import utcnow
from ..declarations import workflow
from ..declarations.models import Declaration
from ..declarations.stats import RoundStats, all_rounds, collect, default_round, reference_labels
from ..extensions import db
from .base import RoleView

ROLES = ("supervisor", "admin")
SUBMITTED_STATES = (workflow.PENDING_INITIAL, workflow.PENDING_SECOND, workflow.COMPLETED,
                    workflow.REJECTED)
STAGE_STATES = {"initial": workflow.PENDING_INITIAL, "second": workflow.PENDING_SECOND}
DIMENSIONS = ("district", "field", "condition")  # reference kinds, in display order


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


def overdue_queues(days: int) -> dict[str, int]:
    """Per review stage (``initial``, ``second``), how many declarations of any round have
    waited in its queue more than ``days`` days (since submission, or since the initial
    pass); stages with none are left out. One query."""
    cutoff = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(Declaration.status, func.count())
        .where(or_(and_(Declaration.status == workflow.PENDING_INITIAL,
                        Declaration.submitted_at <= cutoff),
                   and_(Declaration.status == workflow.PENDING_SECOND,
                        Declaration.initial_passed_at <= cutoff)))
        .group_by(Declaration.status))
    stage_of = {state: stage for stage, state in STAGE_STATES.items()}
    return {stage_of[status]: count for status, count in rows}


# --- the view -------------------------------------------------------------------------------


def _status_rows(stats: RoundStats) -> list[tuple[str, int]]:
    """The statuses for the chart, a rejection split by the stage it happened at."""
    rows = [(str(workflow.LABELS[s]), stats.by_status.get(s, 0))
            for s in SUBMITTED_STATES if s != workflow.REJECTED]
    for stage, label in workflow.STAGES.items():
        rows.append((_("Not approved (%(stage)s)", stage=label),
                     stats.rejected_by_stage.get(stage, 0)))
    return rows


class DashboardView(RoleView):
    """``/admin/dashboard/``: statistics of a round, for supervisors and administrators."""

    roles = ROLES

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
                   "status_labels": workflow.WORKFLOW.labels(),
                   "status_badges": workflow.WORKFLOW.badges(),
                   "submitted_states": SUBMITTED_STATES,
                   "bureau_labels": {
                       "reported": _("Reported to the municipal bureau"),
                       workflow.LISTED: workflow.OUTCOMES[workflow.LISTED].label,
                       workflow.NOT_LISTED: workflow.OUTCOMES[workflow.NOT_LISTED].label,
                       "awaiting": _("Awaiting the municipal bureau's decision")}}
        remind_days = int(current_app.config["REVIEW_REMIND_DAYS"])
        context.update(remind_days=remind_days, overdue=overdue_queues(remind_days))
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
