"""Pure validation functions shared by forms, operations, CLI and OCR.

Each function takes a raw string and either returns the normalised value or
raises ``ValueError`` with a short machine reason (the caller translates it).

Numbers are written with the ASCII digits 0-9. What NFKC folds to them (full-width ``１２３``,
superscripts, circled digits) is folded; the digits of other scripts (Arabic-Indic ``٣``,
Devanagari ``३``…), which ``str.isdigit()``, ``int()`` and ``re``'s ``\\d`` all accept, are
refused with the reason ``digits``: stored as typed, they would make the same ID number two
different numbers (duplicates missed, searches empty).

The second half of the module holds every WTForms validator and input filter of the project
(portal and admin forms alike): thin wrappers that call the pure checks and translate their
reasons. A validator keeps its message and parameters as attributes, so two forms can be
compared validator by validator (``tests/declarations/test_forms_shared.py``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError

from .creditcode import ALPHABET as CREDIT_CODE_ALPHABET
from .creditcode import gb32100_check_char

# --- control characters ------------------------------------------------------

# C0 and C1 control characters (NUL included), DEL and lone surrogates; multi-line text keeps
# its line feeds and tabs.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_controls(text: str, multiline: bool = False) -> str:
    """``text`` without control characters; ``multiline``: but the line feed and the tab,
    and line breaks as line feeds (browsers send CR LF)."""
    if multiline:
        return _CONTROL_MULTILINE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _CONTROL.sub("", text)


# --- digits ------------------------------------------------------------------


def ascii_digits(raw: str) -> str:
    """``raw`` in NFKC, where every digit is one of 0-9; ``ValueError("digits")`` when a
    digit of another script is left."""
    value = unicodedata.normalize("NFKC", raw or "")
    if not value.isascii() and any(char.isdigit() for char in value if not char.isascii()):
        raise ValueError("digits")
    return value


def whole_number(raw: str) -> int:
    """A whole number written with digits only (no sign, no spaces inside); reasons:
    ``digits``, ``format``."""
    value = ascii_digits(raw).strip()
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise ValueError("format")
    return int(value)


# --- mainland mobile numbers -------------------------------------------------

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_PREFIXES = ("+86", "0086", "86")


def normalize_mobile(raw: str) -> str:
    """Return the 11-digit mainland mobile number in ``raw``.

    Full-width digits are folded to ASCII (NFKC), spaces and dashes dropped, and a
    ``+86`` / ``0086`` country prefix removed. Raises ``ValueError``: ``digits`` (digits of
    another script), ``mobile`` (anything else).
    """
    value = ascii_digits(raw).strip()
    value = re.sub(r"[\s\-()]", "", value)
    for prefix in _MOBILE_PREFIXES:
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix):]
            break
    if not _MOBILE_RE.fullmatch(value):
        raise ValueError("mobile")
    return value


def mask_mobile(mobile: str) -> str:
    """``13800138000`` -> ``138****8000``."""
    if not mobile or len(mobile) < 7:
        return "***"
    return f"{mobile[:3]}****{mobile[-4:]}"


# --- GB 32100 unified social credit code ------------------------------------
# The code's parts and all its checks live in core/creditcode.py; a typed code is refused
# here only for its shape and the GB 32100 check character (the registrar, division and
# GB 11714 checks flag it for staff instead: core.creditcode.soft_problems).


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    return gb32100_check_char(first17)


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def validate_credit_code(raw: str) -> str:
    """Return the credit code in ``raw`` (spaces removed) or raise ``ValueError``.

    Reasons: ``digits`` (digits of another script), ``length`` (not 18 characters),
    ``alphabet`` (a character outside the GB 32100 alphabet, e.g. I, O, S, V, Z or lower
    case), ``check`` (check character). Lower case is refused rather than folded: the code
    is printed in capitals and a lower-case letter is a typing error the user should see.
    """
    value = ascii_digits(raw).replace(" ", "").strip()
    if len(value) != 18:
        raise ValueError("length")
    if any(c not in CREDIT_CODE_ALPHABET for c in value):
        raise ValueError("alphabet")
    if credit_code_check_char(value[:17]) != value[17]:
        raise ValueError("check")
    return value


# --- GB 11643 resident identity number ---------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
MIN_WORKING_AGE = 16
MAX_WORKING_AGE = 80


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=False)) % 11]


def validate_id_number(raw: str, today: date | None = None) -> str:
    """Return the 18-character ID number or raise ``ValueError``.

    Reasons: ``digits`` (digits of another script), ``length``, ``format`` (digits, last
    may be X), ``lowercase_x``, ``birth_date`` (not a real date), ``future`` (born after
    today), ``age`` (outside working age), ``check`` (check character).
    """
    today = today or date.today()
    value = ascii_digits(raw).strip()
    if len(value) != 18:
        raise ValueError("length")
    if value.endswith("x") and re.fullmatch(r"[0-9]{17}", value[:17]):
        raise ValueError("lowercase_x")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        raise ValueError("format")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("birth_date") from None
    if born > today:
        raise ValueError("future")
    if not MIN_WORKING_AGE <= age_on(born, today) <= MAX_WORKING_AGE:
        raise ValueError("age")
    if id_check_char(value[:17]) != value[17]:
        raise ValueError("check")
    return value


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def id_birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_gender(number: str) -> str:
    """``male`` or ``female`` from the 17th digit."""
    return "male" if int(number[16]) % 2 else "female"


def mask_id_number(number: str) -> str:
    """``110101199003070022`` -> ``1101**********002X``-style: 4 + 10 stars + 4."""
    if not number or len(number) < 8:
        return "****"
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


# =============================================================================================
# WTForms validators and filters: the checks above, with translated messages
# =============================================================================================

# Beside any number field given digits of another script (see ``ascii_digits``).
DIGITS_MESSAGE = _l("Use the digits 0–9: digits of other scripts (such as ٣ or ३) are not "
                    "accepted.")
REQUIRED_MESSAGE = _l("This field is required.")
CHOICE_MESSAGE = _l("Choose an entry from the list.")
MOBILE_MESSAGE = _l("Enter an 11-digit mainland mobile number starting with 1, e.g. 13800138000.")
SMS_CODE_MESSAGE = _l("The SMS code is 6 digits.")
PASSWORD_MIN, PASSWORD_MAX = 8, 128


# --- filters: what a text field keeps of its input ---------------------------------------


def single_line(value):
    """A field's text without control characters (a list: each item)."""
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, list):
        return [single_line(item) for item in value]
    return value


def multi_line(value):
    """A text area's text without control characters but the line feed and the tab."""
    return strip_controls(value, multiline=True) if isinstance(value, str) else value


# --- presence and length -------------------------------------------------------------------


def required():
    return InputRequired(message=REQUIRED_MESSAGE)


class RequiredToSubmit:
    """Required when the form is submitted for review (``form.submitting``, true when the
    form has no such attribute); a draft may leave the field empty. Never sets the HTML
    ``required`` flag: the browser must let a draft be saved half filled."""

    def __init__(self, message=REQUIRED_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if getattr(form, "submitting", True) and not str(field.data or "").strip():
            raise StopValidation(str(self.message))


def password_length():
    return Length(
        min=PASSWORD_MIN,
        max=PASSWORD_MAX,
        message=_l("The password must be 8 to 128 characters long."),
    )


def password_max():
    return Length(max=PASSWORD_MAX, message=_l("The password is at most 128 characters."))


class KnownChoice:
    """The value, when given, is one of the field's choices (a code of the reference lists,
    which may change while the form is open)."""

    def __init__(self, message=CHOICE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        codes = {choice[0] if isinstance(choice, tuple) else getattr(choice, "value", choice)
                 for choice in field.choices or ()}
        if field.data not in codes - {""}:
            raise ValidationError(str(self.message))


# --- numbers ---------------------------------------------------------------------------------


class WholeNumber:
    """A whole number between ``minimum`` and ``maximum`` (full-width digits folded);
    ``data`` becomes its ASCII digits."""

    def __init__(self, minimum: int, maximum: int, message) -> None:
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def __call__(self, form, field) -> None:
        if not str(field.data or "").strip():
            return
        try:
            number = whole_number(str(field.data))
        except ValueError as error:
            raise ValidationError(str(DIGITS_MESSAGE if str(error) == "digits"
                                      else self.message)) from None
        if not self.minimum <= number <= self.maximum:
            raise ValidationError(str(self.message))
        field.data = str(number)


class MobileNumber:
    """Normalise to the 11-digit mainland number (full-width digits, +86/0086 folded)."""

    def __init__(self, message=MOBILE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_mobile(field.data)
        except ValueError as error:
            raise ValidationError(str(DIGITS_MESSAGE if str(error) == "digits"
                                      else self.message)) from None


class SmsCodeFormat:
    """Six digits 0-9 (full-width ones folded); ``data`` becomes the six digits."""

    def __init__(self, message=SMS_CODE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            code = ascii_digits(field.data).strip()
        except ValueError:
            raise ValidationError(str(DIGITS_MESSAGE)) from None
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError(str(self.message))
        field.data = code


class Money:
    """An amount in 万元: digits with at most two decimals, no sign, no exponent."""

    def __init__(self, maximum: int = 10**10) -> None:
        self.maximum = maximum

    def __call__(self, form, field) -> None:
        from decimal import Decimal

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


# --- the unified social credit code (the check itself: ``validate_credit_code``) -----------

CREDIT_CODE_MESSAGES = {
    "digits": DIGITS_MESSAGE,
    "length": _l("The unified social credit code has 18 characters."),
    "alphabet": _l("Use digits and capital letters only; the code never contains "
                   "I, O, S, V or Z."),
    "check": _l("The last character (check character) does not match the first 17: "
                "check the code against the licence."),
}


class CreditCode:
    """GB 32100: 18 characters, digits and capitals without I, O, S, V, Z, check character."""

    messages = CREDIT_CODE_MESSAGES

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = validate_credit_code(field.data)
        except ValueError as error:
            raise ValidationError(str(self.messages.get(str(error), self.messages["check"]))
                                  ) from None


# --- the resident identity number, and what is derived from it -----------------------------

ID_MESSAGES = {
    "digits": DIGITS_MESSAGE,
    "length": _l("The ID number has 18 characters."),
    "lowercase_x": _l("Write the last character X in capitals."),
    "format": _l("The ID number is 17 digits followed by a digit or X."),
    "birth_date": _l("The birth date in the ID number (characters 7–14) is not a real date."),
    "future": _l("The birth date in the ID number is in the future."),
    "age": _l("The birth date in the ID number gives an age outside working age (16–80)."),
    "check": _l("The last character (check character) does not match: check the number."),
}


def _form_today(form) -> date:
    from .timeutil import local_today

    return getattr(form, "today", None) or local_today()


class IdNumber:
    """GB 11643: 18 characters, a real birth date, working age, check character; ``data``
    becomes the number (full-width digits folded). Today is ``form.today`` when the form
    has one (the office's date otherwise)."""

    messages = ID_MESSAGES

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = validate_id_number(field.data.strip(), _form_today(form))
        except ValueError as error:
            raise ValidationError(str(self.messages[str(error)])) from None


class AgreesWithIdNumber:
    """The gender or age (``derived``: ``"gender"`` or ``"age"``) agrees with the valid ID
    number in the field ``source`` — filled in from it when left empty. Put it after the
    ID number's field and, for an age, after :class:`WholeNumber`."""

    def __init__(self, derived: str, source: str = "id_number") -> None:
        if derived not in ("gender", "age"):
            raise ValueError(derived)
        self.derived, self.source = derived, source

    def __call__(self, form, field) -> None:
        number = form[self.source]
        if field.errors or number.errors or not number.data:
            return
        if self.derived == "gender":
            expected = id_gender(number.data)
        else:
            expected = str(age_on(id_birth_date(number.data), _form_today(form)))
        typed = str(field.data or "").strip()
        if not typed:
            field.data = expected
        elif typed != expected:
            raise ValidationError(_("The gender does not match the ID number.")
                                  if self.derived == "gender" else
                                  _("The age does not match the ID number (%(age)d).",
                                    age=int(expected)))


# --- contact numbers: a mobile or a landline ------------------------------------------------

CONTACT_NUMBER_MESSAGE = _l("Enter a mobile number (e.g. 13800138000) or a landline with its "
                            "area code, e.g. 010-12345678, or 010-12345678-123 with an "
                            "extension.")
_LANDLINE_EXTENSION = r"(?:[\s\-]*(?:转|ext\.?|x|#|-)[\s\-]*([0-9]{1,6}))?"


def normalize_contact_number(raw: str) -> str:
    """A mainland mobile (``13800138000``, as :func:`normalize_mobile`) or a landline with
    its area code and, optionally, an extension, written ``010-12345678`` /
    ``0755-1234567-123``.

    A landline's area code is ``010`` or ``02X`` (three digits) or four digits starting
    ``03``–``09``, written plain, in brackets or after ``+86``/``0086`` without its 0; the
    local number is 8 digits (7 or 8 after a four-digit area code) not starting with 0,
    spaces inside dropped; an extension of 1–6 digits
    follows ``-``, ``转``, ``ext``, ``x`` or ``#``. Full-width characters are folded. Raises
    ``ValueError``: ``digits`` (digits of another script), ``phone`` (anything else).
    """
    value = ascii_digits(raw).strip()
    try:
        return normalize_mobile(value)
    except ValueError:
        pass
    value = re.sub(r"^(?:\+|00)86[\s\-]*(?:\(0?([0-9]{2,3})\)|0?([0-9]))",
                   lambda m: "0" + (m.group(1) or m.group(2)), value)
    area = re.match(r"\(?(0[0-9]+)", value)
    if not area:
        raise ValueError("phone")
    size = 3 if area.group(1)[1:2] in ("1", "2") else 4
    match = re.fullmatch(rf"\(?(0[0-9]{{{size - 1}}})\)?[\s\-]*([1-9](?: ?[0-9]){{6,7}})"
                         rf"{_LANDLINE_EXTENSION}", value, flags=re.IGNORECASE)
    if not match or match.group(1) == "000":
        raise ValueError("phone")
    code, number, extension = match.groups()
    number = number.replace(" ", "")
    if (code[1] == "1" and code != "010") or (size == 3 and len(number) != 8):
        raise ValueError("phone")  # 011–019 are no area codes; 010 and 02X have 8 digits
    return f"{code}-{number}" + (f"-{extension}" if extension else "")


class ContactNumber:
    """A mobile or a landline (:func:`normalize_contact_number`); ``data`` becomes the
    normalised number."""

    def __init__(self, message=CONTACT_NUMBER_MESSAGE) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_contact_number(field.data)
        except ValueError as error:
            raise ValidationError(str(DIGITS_MESSAGE if str(error) == "digits"
                                      else self.message)) from None
