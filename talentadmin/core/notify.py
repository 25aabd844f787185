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
    "declaration.reported": _l("%(name)s was reported to the municipal talent bureau. "
                               "%(text)s"),
}


def render(notice: Notice) -> str:
    from flask_babel import get_locale

    params = dict(notice.params)
    if "text_zh" in params:  # a text the admins edit, stored in both languages
        english = str(get_locale() or "").startswith("en")
        params["text"] = params["text_en"] if english else params["text_zh"]
    return str(MESSAGES[notice.kind]) % params


def send_raw(mobile: str, message: str) -> None:
    """An SMS with a text written by the office (not a catalog string)."""
    with force_locale("zh_Hans_CN"):
        text = _("[Talent Introduction] %(message)s", message=message)
    try:
        sms.send_text(mobile, text)
    except (sms.SmsError, OSError) as error:
        log.warning("notice SMS not sent: %s", error)


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


def notify_text(mobile: str, kind: str, *, names: list[str], reason: str | None = None) -> None:
    """One SMS for several records of one enterprise decided together (bulk decisions):
    the notices themselves are written by the caller, one per record."""
    with force_locale("zh_Hans_CN"):
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = _("%(names)s and %(count)d more", names=shown, count=len(names) - 5)
        message = str(MESSAGES[kind]) % {"name": shown, "reason": reason or ""}
        text = _("[Talent Introduction] %(message)s", message=message)
    try:
        sms.send_text(mobile, text)
    except (sms.SmsError, OSError) as error:
        log.warning("notice SMS for %s not sent: %s", kind, error)
