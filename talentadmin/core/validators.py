"""Pure validation functions shared by forms, operations, CLI and OCR.

Each function takes a raw string and either returns the normalised value or
raises ``ValueError`` with a short machine reason (the caller translates it).

Numbers are written with the ASCII digits 0-9. What NFKC folds to them (full-width ``１２３``,
superscripts, circled digits) is folded; the digits of other scripts (Arabic-Indic ``٣``,
Devanagari ``३``…), which ``str.isdigit()``, ``int()`` and ``re``'s ``\\d`` all accept, are
refused with the reason ``digits``: stored as typed, they would make the same ID number two
different numbers (duplicates missed, searches empty).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

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

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    pairs = zip(first17, _CREDIT_WEIGHTS, strict=False)
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in pairs)
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


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
