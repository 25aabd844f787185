"""The SMS outbox in the back office: the messages that failed (and those still waiting),
with resend one and resend all.

Admins list and resend; supervisors list only. Every resend is audited; the forms post
with the CSRF token (``CSRFProtect`` checks every POST).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..core import audit
from ..core.models import SmsOutbox
from ..core.params import record_id
from ..core.timeutil import local_formatter
from ..core.validators import mask_mobile
from ..extensions import db
from ..jobs import outbox as jobs
from .base import RoleView, has_role

READ_ROLES = ("admin", "supervisor")
RESEND_ROLES = ("admin",)
SHOWN = ("failed", "queued", "sending")  # what the office may need to act on
PAGE = 200


class OutboxView(RoleView):
    roles = READ_ROLES

    @expose("/")
    def index(self):
        status = request.args.get("status", "failed")
        if status not in SHOWN:
            abort(400)
        counts = dict(db.session.execute(
            select(SmsOutbox.status, func.count()).where(SmsOutbox.status.in_(SHOWN))
            .group_by(SmsOutbox.status)).all())
        rows = db.session.scalars(
            select(SmsOutbox).where(SmsOutbox.status == status)
            .order_by(SmsOutbox.id.desc()).limit(PAGE)).all()
        return self.render("admin/outbox.html", rows=rows, status=status, statuses=SHOWN,
                           counts=counts, page=PAGE, mask=mask_mobile,
                           when=local_formatter(get_timezone(), "%Y-%m-%d %H:%M"),
                           can_resend=has_role(*RESEND_ROLES))

    @expose("/resend", methods=("POST",))
    def resend_one(self):
        if not has_role(*RESEND_ROLES):
            abort(403)
        try:
            outbox_id = record_id(request.form.get("id"))
        except ValueError:
            abort(400)
        queued = jobs.resend([outbox_id])
        if not queued:
            flash(_("This message is not failed: nothing to resend."), "warning")
            return redirect(url_for(".index"))
        audit.record("sms.resend", detail={"ids": queued})
        db.session.commit()
        flash(_("The message is queued to be sent again."), "success")
        return redirect(url_for(".index"))

    @expose("/resend-all", methods=("POST",))
    def resend_all(self):
        if not has_role(*RESEND_ROLES):
            abort(403)
        queued = jobs.resend()
        if queued:
            audit.record("sms.resend", detail={"count": len(queued), "ids": queued[:100]})
        db.session.commit()
        flash(_("%(count)d failed messages are queued to be sent again.", count=len(queued)),
              "success" if queued else "info")
        return redirect(url_for(".index"))
