"""Telling an enterprise about a change: an in-portal notice plus an SMS.

Notices are stored as a kind and its parameters and rendered in the reader's language;
the SMS goes out in Chinese (the portal's default) through the configured backend, and
is skipped when SMS is switched off. A failing gateway never undoes the decision.

An SMS is queued on the database session and leaves only after the session commits (the
session's ``after_commit`` event): a request whose transaction is rolled back — a lost
race, an error — sends nothing, and a savepoint rolled back drops the SMS queued inside it.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, insert, select

from ..extensions import db
from . import sms
from .models import Notice

log = logging.getLogger(__name__)

# The text of each kind of notice. The features add theirs (:func:`notice_texts`).
MESSAGES: dict = {}


def notice_texts(texts: dict) -> dict:
    """Add the texts of a feature's notices (``{kind: lazily translated text}``), declared
    in its ``workflow.py`` beside the transitions that send them (``Transition.notice``)."""
    MESSAGES.update(texts)
    return texts


def render(notice: Notice) -> str:
    from flask_babel import get_locale

    params = dict(notice.params)
    if "text_zh" in params:  # a text the admins edit, stored in both languages
        english = str(get_locale() or "").startswith("en")
        params["text"] = params["text_en"] if english else params["text_zh"]
    return str(MESSAGES[notice.kind]) % params


def send_raw(mobile: str, message: str) -> None:
    """An SMS with a text written by the office (not a catalog string), after the commit."""
    with force_locale("zh_Hans_CN"):
        text = _("[Talent Introduction] %(message)s", message=message)
    queue_sms(mobile, text, "raw")


def notify(user, kind: str, *, link: str | None = None, **params) -> Notice:
    notice = Notice(enterprise_user_id=user.id, kind=kind, params=params, link=link)
    db.session.add(notice)
    with force_locale("zh_Hans_CN"):
        text = _("[Talent Introduction] %(message)s", message=render(notice))
    queue_sms(user.mobile, text, kind)
    return notice


def notify_many(kind: str, notices: list[tuple[int, dict, str | None]], *, at=None) -> None:
    """Notices for many records decided together (``(enterprise_user_id, params, link)``),
    inserted in bulk, and one SMS per enterprise naming its records (``params["name"]``)."""
    from ..accounts.models import EnterpriseUser

    if not notices:
        return
    db.session.execute(insert(Notice), [
        {"enterprise_user_id": user_id, "kind": kind, "params": params, "link": link,
         **({"created_at": at} if at else {})}
        for user_id, params, link in notices])
    by_user: dict[int, list[str]] = {}
    for user_id, params, _link in notices:
        by_user.setdefault(user_id, []).append(params.get("name", ""))
    mobiles = dict(db.session.execute(
        select(EnterpriseUser.id, EnterpriseUser.mobile)
        .where(EnterpriseUser.id.in_(list(by_user)))).all())
    reason = notices[0][1].get("reason")
    for user_id, names in by_user.items():
        notify_text(mobiles[user_id], kind, names=names, reason=reason)


def notify_text(mobile: str, kind: str, *, names: list[str], reason: str | None = None) -> None:
    """One SMS for several records of one enterprise decided together (bulk decisions):
    the notices themselves are written by the caller, one per record."""
    with force_locale("zh_Hans_CN"):
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = _("%(names)s and %(count)d more", names=shown, count=len(names) - 5)
        message = str(MESSAGES[kind]) % {"name": shown, "reason": reason or ""}
        text = _("[Talent Introduction] %(message)s", message=message)
    queue_sms(mobile, text, kind)


# --- SMS after the commit ---------------------------------------------------------------

QUEUE = "talentadmin_sms"


def queue_sms(mobile: str, text: str, kind: str) -> None:
    """Send ``text`` to ``mobile`` once the current transaction commits (never if it is
    rolled back, nor if the savepoint it was queued in is)."""
    session = db.session()
    tag = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(QUEUE, []).append((tag, mobile, text, kind))


@event.listens_for(db.session, "after_commit")
def _send_queued(session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint released: wait for the end
        return
    queued = session.info.pop(QUEUE, [])
    for _tag, mobile, text, kind in queued:
        try:
            sms.send_text(mobile, text)
        except (sms.SmsError, OSError) as error:
            log.warning("notice SMS for %s not sent: %s", kind, error)


@event.listens_for(db.session, "after_soft_rollback")
def _drop_rolled_back(session, previous_transaction) -> None:
    queued = session.info.get(QUEUE)
    if queued:
        session.info[QUEUE] = [entry for entry in queued
                               if not _within(entry[0], previous_transaction)]


@event.listens_for(db.session, "after_transaction_end")
def _drop_unsent(session, transaction) -> None:
    if transaction.parent is None:  # the transaction ended without a commit: nothing leaves
        session.info.pop(QUEUE, None)


def _within(tag, ended) -> bool:
    """Whether a queued SMS was queued inside the transaction ``ended`` (or had no
    transaction, and ``ended`` is the outermost)."""
    if tag is None:
        return ended.parent is None
    while tag is not None:
        if tag is ended:
            return True
        tag = tag.parent
    return False
