"""Enterprise and staff accounts."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.timeutil import utcnow
from ..core.validators import mask_mobile
from ..extensions import db

ROLES = {
    "admin": _l("Administrator"),
    "initial_reviewer": _l("Initial reviewer"),
    "second_reviewer": _l("Second reviewer"),
    "supervisor": _l("Supervisor"),
}


def new_stamp() -> str:
    return secrets.token_hex(8)


def hash_method() -> str:
    """The configured ``PASSWORD_HASH_METHOD`` (checked when the app is built: production
    cost unless a test app); Werkzeug's scrypt outside an app."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def check_dummy_password(password: str) -> bool:
    """Spend the time of a real password check (the same scrypt cost) and fail: for a
    name that has no account or no password, so a failure takes as long either way."""
    check_password_hash(_dummy_hash(hash_method()), password)
    return False


class PasswordMixin:
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # Changing the stamp ends every session of the account (it is part of the login id).
    security_stamp: Mapped[str] = mapped_column(String(16), default=new_stamp)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=hash_method())
        self.security_stamp = new_stamp()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return check_dummy_password(password)
        return check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


class EnterpriseUser(PasswordMixin, UserMixin, db.Model):
    """An enterprise operator (经办人), known by the registered mobile number."""

    __tablename__ = "enterprise_user"
    kind = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    role_names = ("enterprise",)

    def get_id(self) -> str:
        return f"e:{self.id}:{self.security_stamp}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def audit_label(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def display_name(self) -> str:
        return mask_mobile(self.mobile)

    def __str__(self) -> str:
        return self.mobile


class StaffRole(db.Model):
    __tablename__ = "staff_role"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class StaffUser(PasswordMixin, UserMixin, db.Model):
    """A talent-office staff member, holding one or more roles."""

    __tablename__ = "staff_user"
    kind = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    role_rows: Mapped[list[StaffRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=StaffRole.role
    )

    def get_id(self) -> str:
        return f"s:{self.id}:{self.security_stamp}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(r.role for r in self.role_rows)

    @role_names.setter
    def role_names(self, names) -> None:
        wanted = set(names)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            StaffRole(role=name)
            for name in sorted(wanted - {r.role for r in self.role_rows})
        ]

    def has_role(self, *roles: str) -> bool:
        return bool(set(roles) & set(self.role_names))

    @property
    def audit_label(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def __str__(self) -> str:
        return self.username
