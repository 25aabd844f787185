"""Contact numbers: a mainland mobile or a landline with its area code and extension."""

from __future__ import annotations

import pytest

from talentadmin.core.validators import normalize_contact_number


@pytest.mark.parametrize(("raw", "normalised"), [
    ("13800138000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("010-12345678", "010-12345678"),
    ("010-12345678-123", "010-12345678-123"),
    ("(010)12345678", "010-12345678"),
    ("（010）12345678", "010-12345678"),
    ("01012345678", "010-12345678"),
    ("010 8429 6151", "010-84296151"),
    ("0755-1234567", "0755-1234567"),
    ("075512345678", "0755-12345678"),
    ("021-62345678#99", "021-62345678-99"),
    ("010-84296151转8", "010-84296151-8"),
    ("010-84296151 ext. 12", "010-84296151-12"),
    ("+86-10-12345678", "010-12345678"),
    ("+86 (10) 84296151", "010-84296151"),
    ("0086 21 62345678", "021-62345678"),
    ("０１０－１２３４５６７８", "010-12345678"),
])
def test_accepted(raw, normalised):
    assert normalize_contact_number(raw) == normalised


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "phone"), ("12345", "phone"), ("84296151", "phone"),  # no area code
    ("010-1234567", "phone"),  # 010 and 02X numbers have 8 digits
    ("010-01234567", "phone"), ("0101-2345678", "phone"), ("011-12345678", "phone"),
    ("0755-123456", "phone"), ("010-123456789", "phone"),
    ("010-12345678-1234567", "phone"), ("010-12345678-", "phone"),
    ("+86 138 0013 800", "phone"), ("00-12345678", "phone"), ("abc", "phone"),
    ("tel 010 12345678", "phone"), ("010-1234 5678 123", "phone"),
    ("010-٣2345678", "digits"),
])
def test_refused(raw, reason):
    with pytest.raises(ValueError, match=f"^{reason}$"):
        normalize_contact_number(raw)
