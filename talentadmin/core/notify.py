"""Telling an enterprise about a change: an in-portal notice plus an SMS.

Notices are stored as a kind and its parameters and rendered in the reader's language;
the SMS goes out in Chinese (the portal's default) through the configured backend, and
is skipped when SMS is switched off. A failing gateway never undoes the decision.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from . import sms
from .models import Notice

log = logging.getLogger(__name__)

MESSAGES = {
    "certification.approved": _l("Your unit certification was approved."),
    "certification.rejected": _l("Your unit certification was not approved. Reason: "
                                 "%(reason)s"),
    "permit.approved": _l("Your business permission was approved: you may now add "
                          "declarations."),
    "permit.rejected": _l("Your business permission application was not approved. Reason: "
                          "%(reason)s"),
    "declaration.passed_initial": _l("The declaration of %(name)s passed the initial review "
                                     "and awaits the second review."),
    "declaration.completed": _l("The declaration of %(name)s passed the second review "
                                "(completed at district level)."),
    "declaration.rejected": _l("The declaration of %(name)s was not approved. Reason: "
                               "%(reason)s"),
}


def render(notice: Notice) -> str:
    return str(MESSAGES[notice.kind]) % notice.params


def notify(user, kind: str, *, link: str | None = None, **params) -> Notice:
    notice = Notice(enterprise_user_id=user.id, kind=kind, params=params, link=link)
    db.session.add(notice)
    with force_locale("zh_Hans_CN"):
        text = _("[Talent Introduction] %(message)s", message=render(notice))
    try:
        sms.send_text(user.mobile, text)
    except (sms.SmsError, OSError) as error:
        log.warning("notice SMS for %s not sent: %s", kind, error)
    return notice
