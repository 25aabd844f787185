"""WTForms validators built on ``core.validators``, with translated messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired, Length, ValidationError

from .validators import normalize_mobile

PASSWORD_MIN, PASSWORD_MAX = 8, 128


class MobileNumber:
    """Normalise to the 11-digit mainland number (full-width digits, +86/0086 folded)."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_mobile(field.data)
        except ValueError:
            raise ValidationError(
                _l("Enter an 11-digit mainland mobile number starting with 1, e.g. 13800138000.")
            ) from None


def required():
    return InputRequired(message=_l("This field is required."))


def password_length():
    return Length(
        min=PASSWORD_MIN,
        max=PASSWORD_MAX,
        message=_l("The password must be 8 to 128 characters long."),
    )


def password_max():
    return Length(max=PASSWORD_MAX, message=_l("The password is at most 128 characters."))


class SmsCodeFormat:
    def __call__(self, form, field) -> None:
        if field.data and not (len(field.data.strip()) == 6 and field.data.strip().isdigit()):
            raise ValidationError(_l("The SMS code is 6 digits."))


class Money:
    """An amount in 万元: digits with at most two decimals, no sign, no exponent."""

    def __init__(self, maximum: int = 10**10) -> None:
        self.maximum = maximum

    def __call__(self, form, field) -> None:
        import re
        from decimal import Decimal

        from flask_babel import gettext as _

        raw = (field.data or "").strip().replace(",", "")
        if not raw:
            return
        if raw.startswith("-"):
            raise ValidationError(_("The amount cannot be negative."))
        if not re.fullmatch(r"\d+(\.\d+)?", raw):
            raise ValidationError(_("Enter a number in 10,000 yuan, e.g. 125.50."))
        if not re.fullmatch(r"\d+(\.\d{1,2})?", raw):
            raise ValidationError(_("Use at most two decimals."))
        if Decimal(raw) >= self.maximum:
            raise ValidationError(_("The amount is too large."))
        field.data = raw
