"""Everything that changes an account: login, registration, passwords, mobile numbers.

Each function writes its audit events and flushes; the request commits. Failures are
raised as ``FieldError`` carrying a translated message for the field concerned.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_user
from sqlalchemy import select, update

from ..core import audit, captcha, sms
from ..core.errors import FieldError
from ..core.ratelimit import counters
from ..core.security import end_session, start_session
from ..core.timeutil import utcnow
from ..core.validators import mask_mobile
from ..core.workflow import Conflict, unique_or_conflict
from ..extensions import db
from .models import EnterpriseUser, StaffUser, check_dummy_password, new_stamp

LOCK_AFTER = 5
LOCK_SECONDS = 15 * 60

SMS_CODE_MESSAGES = {
    "missing": lambda: _("Request an SMS code first, or request a new one."),
    "expired": lambda: _("The SMS code has expired. Request a new one."),
    "dead": lambda: _("Too many wrong tries: this SMS code no longer works. Request a new one."),
    "wrong": lambda: _("The SMS code is wrong."),
}


def _captcha_or_fail(captcha_id: str, answer: str) -> None:
    reason = captcha.verify(captcha_id, answer)
    if reason == "expired":
        raise FieldError("captcha", _("The image code has expired. Enter the new one."))
    if reason:
        raise FieldError("captcha", _("The image code is wrong. Enter the new one."))


def _send_or_fail(mobile: str, purpose: str, deliver: bool = True) -> None:
    try:
        sms.send_code(mobile, purpose, deliver)
    except sms.SmsLimited as limit:
        if limit.scope == "minute":
            message = ngettext(
                "A code was sent less than a minute ago. Try again in %(num)d second.",
                "A code was sent less than a minute ago. Try again in %(num)d seconds.",
                limit.seconds_left,
            )
        else:
            minutes = max(1, -(-limit.seconds_left // 60))
            message = ngettext(
                "Too many codes requested. Try again in %(num)d minute.",
                "Too many codes requested. Try again in %(num)d minutes.",
                minutes,
            )
        raise FieldError("sms_code", message) from None
    except sms.SmsError:
        raise FieldError(
            "sms_code", _("The SMS could not be sent just now. Try again in a moment.")
        ) from None


def _code_or_fail(mobile: str, purpose: str, code: str) -> None:
    reason = sms.verify_code(mobile, purpose, code)
    if reason:
        raise FieldError("sms_code", SMS_CODE_MESSAGES[reason]())


def _login(user, method: str) -> None:
    start_session(user)
    login_user(user)
    user.last_login_at = utcnow()
    audit.record(f"{user.kind}.login", actor=user, detail={"method": method})


# --- enterprise: SMS login / registration ------------------------------------------------


def send_login_code(mobile: str, captcha_id: str, answer: str) -> None:
    _captcha_or_fail(captcha_id, answer)
    _send_or_fail(mobile, "login")


def login_by_sms(mobile: str, code: str) -> EnterpriseUser:
    """Log in the account of ``mobile``, registering it when the number is new."""
    try:
        _code_or_fail(mobile, "login", code)
    except FieldError:
        audit.record("enterprise.login", outcome="failure", actor_label=mask_mobile(mobile),
                     detail={"method": "sms"})
        raise
    user = db.session.execute(
        select(EnterpriseUser).where(EnterpriseUser.mobile == mobile)
    ).scalar_one_or_none()
    if user is None:
        try:
            with unique_or_conflict():  # two first logins of one number: one account
                user = EnterpriseUser(mobile=mobile)
                db.session.add(user)
        except Conflict:
            user = db.session.execute(
                select(EnterpriseUser).where(EnterpriseUser.mobile == mobile)).scalar_one()
        else:
            audit.record("enterprise.register", actor=user, target=user)
    if not user.active:
        audit.record("enterprise.login", outcome="failure", actor=user,
                     detail={"method": "sms", "reason": "disabled"})
        raise FieldError("mobile", _("This account is disabled. Contact technical support."))
    _login(user, "sms")
    return user


# --- password login with lockout (enterprise and staff) ----------------------------------


def _lock_message(kind: str, name: str) -> str:
    _, seconds_left = counters().peek(f"pwlock:{kind}:{name}")
    minutes = max(1, -(-seconds_left // 60))
    return ngettext(
        "Password login is locked after 5 failed tries. Try again in %(num)d minute.",
        "Password login is locked after 5 failed tries. Try again in %(num)d minutes.",
        minutes,
    )


def _password_login(kind: str, name: str, user, password: str, label: str):
    """Shared rule: 5 failures lock password login for 15 minutes, known name or not.

    The try is counted first, in one atomic step, and only a try within the limit has
    its password checked: of any number of parallel tries, 5 are checked. The 5th
    failure restarts the window, so the lock lasts 15 minutes from it; a success ends
    it. An unknown name costs the same scrypt hash as a known one.
    """
    store = counters()
    key = f"pwlock:{kind}:{name}"
    tries = store.hit(key, LOCK_SECONDS)
    if tries > LOCK_AFTER:
        audit.record(f"{kind}.login", outcome="failure", actor_label=label,
                     detail={"method": "password", "reason": "locked"})
        raise FieldError("password", _lock_message(kind, name))
    right = user.check_password(password) if user else check_dummy_password(password)
    if not right:
        audit.record(f"{kind}.login", outcome="failure", actor_label=label,
                     detail={"method": "password"})
        if tries == LOCK_AFTER:
            store.extend(key, LOCK_SECONDS)
            raise FieldError("password", _lock_message(kind, name))
        if kind == "enterprise":
            raise FieldError("password", _("The mobile number or the password is wrong."))
        raise FieldError("password", _("The username or the password is wrong."))
    if not user.active:
        audit.record(f"{kind}.login", outcome="failure", actor=user,
                     detail={"method": "password", "reason": "disabled"})
        raise FieldError("password", _("This account is disabled. Contact an administrator."))
    store.reset(key)
    _login(user, "password")
    return user


def login_by_password(mobile: str, password: str) -> EnterpriseUser:
    user = db.session.execute(
        select(EnterpriseUser).where(EnterpriseUser.mobile == mobile)
    ).scalar_one_or_none()
    return _password_login("enterprise", mobile, user, password, mask_mobile(mobile))


def staff_login(username: str, password: str) -> StaffUser:
    name = username.strip().lower()
    user = db.session.execute(
        select(StaffUser).where(db.func.lower(StaffUser.username) == name)
    ).scalar_one_or_none()
    return _password_login("staff", name, user, password, name[:64])


def logout(user) -> None:
    audit.record(f"{user.kind}.logout", actor=user)
    end_session()  # the stored session is deleted: a copy of the cookie opens nothing


# --- password and mobile changes ---------------------------------------------------------


def send_own_code(user: EnterpriseUser, purpose: str) -> None:
    _send_or_fail(user.mobile, purpose)


def set_password(
    user: EnterpriseUser, new_password: str, old_password: str = "", code: str = ""
) -> None:
    """Set or change the password; proof is the old password or an SMS code."""
    if old_password:
        if not user.check_password(old_password):
            audit.record("enterprise.password_change", outcome="failure", actor=user,
                         detail={"proof": "password"})
            raise FieldError("old_password", _("The current password is wrong."))
        proof = "password"
    else:
        _code_or_fail(user.mobile, "password", code)
        proof = "sms"
    user.set_password(new_password)
    audit.record("enterprise.password_change", actor=user, target=user, detail={"proof": proof})
    start_session(user)
    login_user(user)  # the stamp changed: keep this session, end the others


def send_change_mobile_code(
    user: EnterpriseUser, new_mobile: str, captcha_id: str, answer: str
) -> None:
    """Image code first; then the send is counted against the SMS limits whatever the
    number. A number of another account gets a code that is stored but never sent, so
    the page, the limits and the later code check read exactly as for a free number:
    the form does not tell which numbers are registered."""
    _captcha_or_fail(captcha_id, answer)
    _refuse_own(user, new_mobile)
    if _taken(new_mobile):
        audit.record("enterprise.mobile_change", outcome="failure", actor=user,
                     detail={"to": mask_mobile(new_mobile), "reason": "taken"})
        _send_or_fail(new_mobile, "change_mobile", deliver=False)
    else:
        _send_or_fail(new_mobile, "change_mobile")


def _refuse_own(user: EnterpriseUser, new_mobile: str) -> None:
    if new_mobile == user.mobile:
        raise FieldError("new_mobile", _("This is already your registered mobile number."))


def _taken(mobile: str) -> bool:
    return db.session.execute(
        select(EnterpriseUser.id).where(EnterpriseUser.mobile == mobile)
    ).first() is not None


def change_mobile(user: EnterpriseUser, new_mobile: str, code: str) -> None:
    """The code is checked before anything is said about the number: only someone who
    holds the new number's phone learns that it belongs to another account."""
    _refuse_own(user, new_mobile)
    _code_or_fail(new_mobile, "change_mobile", code)
    if _taken(new_mobile):  # registered since the code was sent
        raise FieldError(
            "new_mobile", _("This number belongs to another account and cannot be used.")
        )
    old = user.mobile
    try:
        with unique_or_conflict():  # the number registered at this very moment
            user.mobile = new_mobile
            user.security_stamp = new_stamp()  # ends sessions elsewhere
    except Conflict:
        db.session.refresh(user)
        raise FieldError(
            "new_mobile", _("This number belongs to another account and cannot be used.")
        ) from None
    audit.record(
        "enterprise.mobile_change",
        actor=user,
        target=user,
        detail={"from": mask_mobile(old), "to": mask_mobile(new_mobile)},
    )
    start_session(user)
    login_user(user)


def set_enterprise_active(user: EnterpriseUser, active: bool) -> None:
    """Disable or re-enable an enterprise account (admins only); audited, sessions ended."""
    values = {"active": active} if active else {"active": False, "security_stamp": new_stamp()}
    changed = db.session.execute(  # compare-and-set: two clicks change it (and audit) once
        update(EnterpriseUser)
        .where(EnterpriseUser.id == user.id, EnterpriseUser.active.is_(not active))
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed:
        audit.record("enterprise.update", target=user, detail={"active": [not active, active]})
    db.session.refresh(user)


# --- staff accounts ------------------------------------------------------------------------


def create_staff(
    username: str, password: str, roles, full_name: str = "", active: bool = True
) -> StaffUser:
    if db.session.execute(
        select(StaffUser.id).where(db.func.lower(StaffUser.username) == username.lower())
    ).first():
        raise FieldError("username", _("This username is taken."))
    staff = StaffUser(username=username, full_name=full_name or "", active=active)
    staff.role_names = roles
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    audit.record("staff.create", target=staff,
                 detail={"username": username, "roles": sorted(roles), "active": active})
    return staff


def update_staff(
    staff: StaffUser, *, username: str, full_name: str, roles, active: bool, password: str = ""
) -> StaffUser:
    clash = db.session.execute(
        select(StaffUser.id).where(
            db.func.lower(StaffUser.username) == username.lower(), StaffUser.id != staff.id
        )
    ).first()
    if clash:
        raise FieldError("username", _("This username is taken."))
    before = {"username": staff.username, "full_name": staff.full_name,
              "roles": sorted(staff.role_names), "active": staff.active}
    staff.username, staff.full_name, staff.active = username, full_name or "", active
    staff.role_names = roles
    after = {"username": staff.username, "full_name": staff.full_name,
             "roles": sorted(staff.role_names), "active": staff.active}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if password:
        staff.set_password(password)
        changed["password"] = "changed"  # noqa: S105 - a marker, not a password
    if not active and before["active"]:
        staff.security_stamp = new_stamp()  # ends the disabled user's sessions
    audit.record("staff.update", target=staff, detail=changed)
    return staff
