"""WTForms validators built on ``core.validators``, with translated messages."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, Length, ValidationError

from .validators import ascii_digits, normalize_mobile

PASSWORD_MIN, PASSWORD_MAX = 8, 128
# Beside any number field given digits of another script (see ``validators.ascii_digits``).
DIGITS_MESSAGE = _l("Use the digits 0–9: digits of other scripts (such as ٣ or ३) are not "
                    "accepted.")


class MobileNumber:
    """Normalise to the 11-digit mainland number (full-width digits, +86/0086 folded)."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_mobile(field.data)
        except ValueError as error:
            raise ValidationError(DIGITS_MESSAGE if str(error) == "digits" else _l(
                "Enter an 11-digit mainland mobile number starting with 1, e.g. 13800138000."
            )) from None


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
    """Six digits 0-9 (full-width ones folded); ``data`` becomes the six digits."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            code = ascii_digits(field.data).strip()
        except ValueError:
            raise ValidationError(DIGITS_MESSAGE) from None
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError(_l("The SMS code is 6 digits."))
        field.data = code


class Money:
    """An amount in 万元: digits with at most two decimals, no sign, no exponent."""

    def __init__(self, maximum: int = 10**10) -> None:
        self.maximum = maximum

    def __call__(self, form, field) -> None:
        from decimal import Decimal

        from flask_babel import gettext as _

        try:  # full-width digits, comma and point folded
            raw = ascii_digits(field.data or "").strip().replace(",", "")
        except ValueError:
            raise ValidationError(str(DIGITS_MESSAGE)) from None
        if not raw:
            return
        if raw.startswith("-"):
            raise ValidationError(_("The amount cannot be negative."))
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", raw):
            raise ValidationError(_("Enter a number in 10,000 yuan, e.g. 125.50."))
        if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", raw):
            raise ValidationError(_("Use at most two decimals."))
        if Decimal(raw) >= self.maximum:
            raise ValidationError(_("The amount is too large."))
        field.data = raw


class VersionField(HiddenField):
    """The version of the record the form was opened at (compare-and-set on save).

    Flask-Admin builds an edit form from the record on every request, so a POST without
    the field would carry the current version and pass as fresh: posted without it, the
    version is ``None`` (refused as stale)."""

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        super().process(formdata, data, extra_filters)
        if formdata is not None and self.name not in formdata:
            self.data = None
