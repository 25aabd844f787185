"""The pure validators shared by forms, operations, the CLI and OCR."""

from __future__ import annotations

from datetime import date

import pytest

from talentadmin.core.validators import (
    credit_code_check_char,
    id_gender,
    is_valid_credit_code,
    mask_id_number,
    mask_mobile,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
)


@pytest.mark.parametrize("raw", ["13800138000", "+8613800138000", "008613800138000",
                                 "１３８００１３８０００", "138 0013 8000", "138-0013-8000"])
def test_mobile_normalised(raw):
    assert normalize_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["", "12345678901", "1380013800", "138001380000", "1380013800a",
                                 "10800138000", "+8713800138000", "86138001380001"])
def test_mobile_refused(raw):
    with pytest.raises(ValueError):
        normalize_mobile(raw)


def test_mask_mobile():
    assert mask_mobile("13800138000") == "138****8000"


@pytest.mark.parametrize("code", ["91110105MA01R8DQ2M", "91310115MA1FL3K293",
                                  "31110000E00017381A", "91510107MA6C8N2WXR"])
def test_valid_credit_codes(code):
    assert is_valid_credit_code(code) and validate_credit_code(code) == code


@pytest.mark.parametrize(("code", "reason"), [
    ("91110105MA01R8DQ2", "length"),
    ("91110105MA01R8DQ2MX", "length"),
    ("91110105MAO1R8DQ2M", "alphabet"),  # letter O
    ("91110105MA0IR8DQ2M", "alphabet"),  # letter I
    ("91110105ma01r8dq2m", "alphabet"),  # lower case
    ("91110105MA01R8DQ2N", "check"),
])
def test_invalid_credit_codes(code, reason):
    with pytest.raises(ValueError, match=reason):
        validate_credit_code(code)


def test_credit_check_char_of_every_position_change_differs():
    base = "91110105MA01R8DQ2"
    assert credit_code_check_char(base) == "M"
    assert credit_code_check_char("9" + base[1:]) == "M"
    assert credit_code_check_char(base[:-1] + "3") != "M"


TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(("number", "reason"), [
    ("11010519900307002", "length"),
    ("11010519900307002x", "lowercase_x"),
    ("1101051990030700A2", "format"),
    ("110105199002300021", "birth_date"),  # 30 February
    ("110105203001010020", "future"),
    ("110105201501010026", "age"),  # 11 years old
    ("110105199003070021", "check"),
])
def test_invalid_id_numbers(number, reason):
    with pytest.raises(ValueError, match=reason):
        validate_id_number(number, TODAY)


def test_valid_id_number_and_gender():
    number = "11010519491231002X"
    assert validate_id_number(number, TODAY) == number
    assert id_gender(number) == "female"
    assert mask_id_number(number) == "1101**********002X"
