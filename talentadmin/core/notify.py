"""Telling an enterprise about a change: an in-portal notice plus an SMS.

Notices are stored as a kind and its parameters and rendered in the reader's language;
the SMS goes out in Chinese (the portal's default, whatever the language of the page that
caused it) after the office's signature (``sms.signed``: ``SMS_SIGNATURE``, 【人才服务】 by
default) through the configured backend, and is skipped when SMS is switched off. A
failing gateway never undoes the decision.

Each SMS is an outbox row (:class:`~.models.SmsOutbox`) written in the transaction of the
decision, and handed to a worker (``jobs.outbox.deliver``) once that transaction commits:
a request whose transaction is rolled back — a lost race, an error — writes no row and
sends nothing, and the gateway is never called in the request. A row the broker did not
take waits for the sweeper (``jobs.outbox.sweep``). Bulk decisions write one row per
enterprise, handed over in chunks of ``jobs.outbox.CHUNK`` rows per task.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..extensions import db
from .models import Notice, SmsOutbox
from .sms import chinese, signed

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
    queue_sms(mobile, signed(message), "raw")


def notify(user, kind: str, *, link: str | None = None, **params) -> Notice:
    notice = Notice(enterprise_user_id=user.id, kind=kind, params=params, link=link)
    db.session.add(notice)
    with chinese():
        text = signed(render(notice))
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
    queue_many([(mobiles[user_id], sms_text(kind, names=names, reason=reason), kind)
                for user_id, names in by_user.items()])


def notify_text(mobile: str, kind: str, *, names: list[str], reason: str | None = None) -> None:
    """One SMS for several records of one enterprise decided together (bulk decisions):
    the notices themselves are written by the caller, one per record."""
    queue_sms(mobile, sms_text(kind, names=names, reason=reason), kind)


def sms_text(kind: str, *, names: list[str], reason: str | None = None, **params) -> str:
    """The SMS naming several records of one enterprise (the first five, then a count),
    in Chinese after the signature; ``params`` fill the notice text's other fields."""
    with chinese():
        shown = "、".join(names[:5])
        if len(names) > 5:
            shown = _("%(names)s and %(count)d more", names=shown, count=len(names) - 5)
        return signed(str(MESSAGES[kind]) % {**params, "name": shown, "reason": reason or ""})


# --- SMS through the outbox -------------------------------------------------------------

def queue_sms(mobile: str, text: str, kind: str) -> None:
    """Write the outbox row for ``text`` to ``mobile`` in the current transaction; a worker
    sends it once the transaction commits (never if it is rolled back)."""
    queue_many([(mobile, text, kind)])


def queue_many(messages: list[tuple[str, str, str]]) -> list[int]:
    """Outbox rows for ``(mobile, text, kind)`` messages, inserted together and enqueued
    after the commit (``jobs.outbox.CHUNK`` rows per task). Nothing is written when SMS is off."""
    from flask import current_app

    if not messages or not current_app.config["SMS_ENABLED"]:
        return []
    from ..jobs import outbox

    ids = list(db.session.scalars(
        insert(SmsOutbox).returning(SmsOutbox.id),
        [{"to": to, "text": text, "kind": kind} for to, text, kind in messages]))
    outbox.after_commit(ids)
    return ids
