"""Image captchas: single use, five-minute life, answers kept in the database.

``TALENTADMIN_CAPTCHA_TEST_MODE=1`` additionally accepts the answer ``PASSED`` so an
end-to-end check can pass the captcha; ``create_app()`` refuses it unless SMS is on the
``console`` backend (a development setup).
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from io import BytesIO

from captcha.image import ImageCaptcha
from flask import current_app
from sqlalchemy import delete, update

from ..extensions import db
from .models import CaptchaChallenge
from .timeutil import utcnow

LIFETIME = timedelta(minutes=5)
TEST_ANSWER = "PASSED"
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: nothing a reader can mistake for another character.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
LENGTH = 4
# What new_challenge() makes (secrets.token_urlsafe): anything else is unknown at once,
# without a query (a NUL in the address reached PostgreSQL).
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_challenge() -> CaptchaChallenge:
    now = utcnow()
    challenge = CaptchaChallenge(
        id=secrets.token_urlsafe(32),
        answer="".join(secrets.choice(ALPHABET) for _ in range(LENGTH)),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.session.add(challenge)
    db.session.flush()
    return challenge


def render_png(challenge_id: str) -> bytes | None:
    """The PNG for a live challenge, or ``None`` when it is unknown, used or expired."""
    if not _ID.fullmatch(challenge_id or ""):
        return None
    challenge = db.session.get(CaptchaChallenge, challenge_id)
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= utcnow():
        return None
    image = ImageCaptcha(width=160, height=60).generate_image(challenge.answer)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def verify(challenge_id: str, answer: str) -> str | None:
    """Consume the challenge and check the answer.

    Returns ``None`` when right, else the reason: ``missing`` (unknown or already
    used), ``expired`` or ``wrong``. A challenge is spent by any attempt.
    """
    if not isinstance(challenge_id, str) or not _ID.fullmatch(challenge_id):
        return "missing"
    now = utcnow()
    spent = db.session.execute(
        update(CaptchaChallenge)
        .where(CaptchaChallenge.id == (challenge_id or ""), CaptchaChallenge.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        return "missing"
    challenge = db.session.get(CaptchaChallenge, challenge_id)
    if challenge.expires_at <= now:
        return "expired"
    given = (answer or "").strip().upper()
    if current_app.config["CAPTCHA_TEST_MODE"] and given == TEST_ANSWER:
        return None
    if not secrets.compare_digest(given, challenge.answer):
        return "wrong"
    return None


def purge_expired() -> int:
    result = db.session.execute(
        delete(CaptchaChallenge).where(CaptchaChallenge.expires_at <= utcnow() - LIFETIME)
    )
    return result.rowcount
