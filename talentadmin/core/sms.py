"""SMS: one small backend interface, and one-time codes with their send limits.

Backends: ``console`` (development: logs the text and appends one JSON line to the
outbox file so a developer or a test can read the code) and ``http`` (a gateway URL
and a JSON body template). Codes: six digits from ``secrets``, stored as an HMAC,
five-minute life, single use, dead after five wrong tries. Limits per number (one a
minute, ten an hour) and per client IP (thirty an hour) live in the shared counters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from ..extensions import db
from . import audit
from .models import SmsCode
from .ratelimit import counters
from .timeutil import utcnow
from .validators import mask_mobile

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# (counter name, window seconds, limit)
PER_NUMBER_LIMITS = (("minute", 60, 1), ("hour", 3600, 10))
PER_IP_LIMIT = ("ip", 3600, 30)


_MOBILES = re.compile(r"(?<!\d)1\d{10}(?!\d)")
_LONG_DIGITS = re.compile(r"\d{15,}[\dXx]?")


class SmsError(Exception):
    """The gateway did not take the message. Its text is logged and shown in the back office,
    so a mobile number or an ID number a gateway echoes back is masked in it."""

    def __init__(self, message: str) -> None:
        message = _MOBILES.sub(lambda m: mask_mobile(m.group()), str(message))
        super().__init__(_LONG_DIGITS.sub("***", message))


@dataclass
class SmsLimited(Exception):
    """A send limit is reached: ``scope`` is ``minute``, ``hour`` or ``ip``."""

    scope: str
    seconds_left: int


# --- backends ------------------------------------------------------------------


class ConsoleBackend:
    def __init__(self, outbox: str) -> None:
        self.outbox = outbox

    def send(self, to: str, text: str, code: str | None = None) -> None:
        log.info("SMS to %s: %s", mask_mobile(to), text if code is None else "(code)")
        line = json.dumps(
            {"to": to, "text": text, "code": code, "sent_at": utcnow().isoformat() + "Z"},
            ensure_ascii=False,
        )
        os.makedirs(os.path.dirname(self.outbox) or ".", exist_ok=True)
        with open(self.outbox, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class HttpBackend:
    """POSTs the configured JSON template, with ``{to}`` and ``{text}`` filled in."""

    def __init__(self, url: str, template: str, token: str | None, timeout: float) -> None:
        if not url:
            raise RuntimeError("TALENTADMIN_SMS_HTTP_URL is required for the http SMS backend")
        self.url, self.template, self.token, self.timeout = url, template, token, timeout

    def send(self, to: str, text: str, code: str | None = None) -> None:
        def quoted(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1]

        body = self.template.replace("{to}", quoted(to)).replace("{text}", quoted(text))
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own setting
            self.url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                answer = response.read(4096)
        except OSError as exc:  # refused, timed out, or an HTTP error status (HTTPError)
            raise SmsError(str(exc)) from exc
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered {status}")
        refused = refusal(answer)
        if refused:
            raise SmsError(f"gateway answered {status} with an error: {refused}")


def refusal(answer: bytes) -> str | None:
    """What a gateway's ``2xx`` answer says went wrong, or ``None`` when it took the message.

    Gateways often answer 200 and put the failure in the body. A JSON object body is a
    refusal when it has a non-empty ``error`` or ``errors``, ``success`` or ``ok`` false,
    or a ``code`` or ``status`` that is neither 0, 200 nor "ok"/"success"; any other
    body (empty, plain text, JSON without those fields) is taken as accepted.
    """
    try:
        body = json.loads(answer.decode("utf-8")) if answer.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    shown = json.dumps(body, ensure_ascii=False)[:200]
    if body.get("error") or body.get("errors"):
        return shown
    if body.get("success") is False or body.get("ok") is False:
        return shown
    for key in ("code", "status"):
        value = body.get(key)
        if value is None or isinstance(value, bool):
            continue
        if str(value).strip().lower() not in ("0", "200", "ok", "success"):
            return shown
    return None


def backend():
    config = current_app.config
    name = config["SMS_BACKEND"]
    if name == "console":
        return ConsoleBackend(config["SMS_OUTBOX"])
    if name == "http":
        return HttpBackend(
            config["SMS_HTTP_URL"],
            config["SMS_HTTP_TEMPLATE"],
            config["SMS_HTTP_TOKEN"],
            config["SMS_HTTP_TIMEOUT"],
        )
    raise RuntimeError(f"unknown SMS backend {name!r} (use 'console' or 'http')")


def signed(text: str) -> str:
    """An SMS as it leaves: the office's signature (``SMS_SIGNATURE``, in 【】) then ``text``.
    Every SMS is written in Chinese (``chinese()``), the one language of the office's SMS."""
    name = str(current_app.config.get("SMS_SIGNATURE") or "").strip().strip("【】[] \t")
    return f"【{name}】{text}" if name else text


def chinese():
    """The language every SMS is written in, whatever the language of the page that sent it:
    ``with chinese(): text = gettext(...)``."""
    return force_locale("zh_Hans_CN")


def send_text(to: str, text: str) -> None:
    """A plain notice (no code). Does nothing when SMS is switched off."""
    if current_app.config["SMS_ENABLED"]:
        backend().send(to, text)


# --- one-time codes --------------------------------------------------------------------


def _hash(mobile: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{mobile}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def claim_send(mobile: str) -> None:
    """Count one send to ``mobile`` against every limit, before anything is sent.

    Each counter is incremented and read in one atomic step, so parallel requests
    cannot all pass: the first ``limit`` of them do. When one limit is passed,
    ``SmsLimited`` is raised and the counts already taken by this call are given back.
    """
    store = counters()
    limits = [(f"sms:{scope}:{mobile}", scope, window, limit)
              for scope, window, limit in PER_NUMBER_LIMITS]
    ip = audit.client_ip()
    if ip:
        limits.append((f"sms:ip:{ip}", "ip", PER_IP_LIMIT[1], PER_IP_LIMIT[2]))
    counted: list[str] = []
    for key, scope, window, limit in limits:
        if store.hit(key, window) > limit:
            for earlier in counted:
                store.undo(earlier)
            raise SmsLimited(scope, store.peek(key)[1])
        counted.append(key)


def send_code(mobile: str, purpose: str, deliver: bool = True) -> None:
    """Issue a new code for ``mobile`` and ``purpose`` and send it.

    Raises ``SmsLimited`` (nothing sent) or ``SmsError`` (gateway failure).
    Earlier unused codes for the same number and purpose stop working.
    ``deliver=False`` counts and stores a code like any other but sends it to no one:
    a form that must not tell whether a number may be used then answers, and checks
    the codes typed for it, exactly as for a number that may.
    """
    claim_send(mobile)
    now = utcnow()
    db.session.execute(
        update(SmsCode)
        .where(SmsCode.mobile == mobile, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(
        SmsCode(
            mobile=mobile,
            purpose=purpose,
            code_hash=_hash(mobile, purpose, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    with chinese():
        text = signed(gettext(
            "Your verification code is %(code)s, valid for 5 minutes. "
            "Do not share it with anyone.",
            code=code,
        ))
    if not deliver:
        return
    try:
        backend().send(mobile, text, code)
    except SmsError:
        audit.record("sms.sent", outcome="failure", actor_label=mask_mobile(mobile),
                     detail={"purpose": purpose})
        raise
    audit.record("sms.sent", actor_label=mask_mobile(mobile), detail={"purpose": purpose})


def verify_code(mobile: str, purpose: str, code: str) -> str | None:
    """Check and consume a code. ``None`` when right, else ``missing``, ``expired``,
    ``dead`` (``MAX_ATTEMPTS`` wrong tries) or ``wrong``.

    The try is counted (a conditional ``UPDATE … RETURNING``) before the code is
    compared: of parallel tries, at most ``MAX_ATTEMPTS`` are compared. The try that
    makes the code dead says so, and so does every try after it.
    """
    now = utcnow()
    row = db.session.execute(
        select(SmsCode.id, SmsCode.expires_at)
        .where(SmsCode.mobile == mobile, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return "missing"
    if row.expires_at <= now:
        return "expired"
    tried = db.session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.used_at.is_(None), SmsCode.expires_at > now,
               SmsCode.attempts < MAX_ATTEMPTS)
        .values(attempts=SmsCode.attempts + 1)
        .returning(SmsCode.attempts, SmsCode.code_hash)
        .execution_options(synchronize_session=False)
    ).first()
    if tried is None:  # dead, or used or expired since the SELECT
        state = db.session.execute(
            select(SmsCode.used_at, SmsCode.attempts).where(SmsCode.id == row.id)
        ).one()
        if state.used_at is not None:
            return "missing"
        return "dead" if state.attempts >= MAX_ATTEMPTS else "expired"
    if not hmac.compare_digest(tried.code_hash, _hash(mobile, purpose, (code or "").strip())):
        return "dead" if tried.attempts >= MAX_ATTEMPTS else "wrong"
    used = db.session.execute(
        update(SmsCode)
        .where(SmsCode.id == row.id, SmsCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return None if used.rowcount == 1 else "missing"
