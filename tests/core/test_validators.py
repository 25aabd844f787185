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


# --- the WTForms validators: the checks above with their messages ---------------------------


def _form(app, data: dict, **attrs):
    """A small form with the validators under test, posted ``data`` (Chinese messages)."""
    from werkzeug.datastructures import MultiDict
    from wtforms import RadioField, SelectField, StringField
    from wtforms.fields.choices import SelectChoice as C

    from talentadmin.core.forms import Form
    from talentadmin.core.validators import (
        AgreesWithIdNumber,
        CreditCode,
        IdNumber,
        KnownChoice,
        RequiredToSubmit,
        WholeNumber,
    )

    class Sample(Form):
        id_number = StringField(validators=[RequiredToSubmit(), IdNumber()])
        gender = RadioField(choices=[C("male", "男"), C("female", "女")], validate_choice=False,
                            validators=[KnownChoice(), AgreesWithIdNumber("gender"),
                                        RequiredToSubmit()])
        age = StringField(validators=[WholeNumber(1, 149, "整数"), AgreesWithIdNumber("age")])
        code = SelectField(choices=[C("", "请选择"), C("a", "A")], validate_choice=False,
                           validators=[RequiredToSubmit(), KnownChoice()])
        credit_code = StringField(validators=[CreditCode()])

    form = Sample(MultiDict(data), meta={"csrf": False})
    for name, value in attrs.items():
        setattr(form, name, value)
    form.validate()
    return form


ID_1980 = "110105198001010016"  # male, born 1980-01-01


@pytest.mark.parametrize(("data", "attrs", "errors"), [
    ({}, {}, {"id_number": ["此项为必填项。"], "gender": ["此项为必填项。"],
              "code": ["此项为必填项。"]}),
    ({}, {"submitting": False}, {}),  # a draft may be empty
    ({"id_number": ID_1980, "code": "a"}, {}, {}),  # gender and age filled in
    ({"id_number": ID_1980, "code": "a", "gender": "female"}, {},
     {"gender": ["性别与身份证号不符。"]}),
    ({"id_number": ID_1980, "code": "a", "age": "40"}, {"today": date(2026, 1, 1)},
     {"age": ["年龄与身份证号不符（应为 46）。"]}),
    ({"id_number": ID_1980, "code": "a", "age": "４６"}, {"today": date(2026, 1, 1)}, {}),
    ({"id_number": ID_1980, "code": "a", "age": "٤٦"}, {"submitting": False},
     {"age": ["请使用数字 0–9，不接受其他文字的数字（如 ٣ 或 ३）。"]}),
    ({"id_number": ID_1980, "code": "a", "age": "0"}, {}, {"age": ["整数"]}),
    ({"id_number": ID_1980, "code": "a", "age": "abc"}, {}, {"age": ["整数"]}),
    ({"id_number": ID_1980, "code": "b", "gender": "other"}, {},
     {"code": ["请从列表中选择。"], "gender": ["请从列表中选择。"]}),
    ({"id_number": ID_1980[:17] + "2", "code": "a", "gender": "x"}, {"submitting": False},
     {"id_number": ["最后一位校验码不符，请核对身份证号。"], "gender": ["请从列表中选择。"]}),
    ({"id_number": "   ", "code": "  "}, {}, {"id_number": ["此项为必填项。"],
                                              "gender": ["此项为必填项。"],
                                              "code": ["此项为必填项。"]}),
    ({"credit_code": "91110105MA01R8DQ2m"}, {"submitting": False},
     {"credit_code": ["只能包含数字和大写字母，不含 I、O、S、V、Z。"]}),
    ({"credit_code": "91110105MA01R8DQ2"}, {"submitting": False},
     {"credit_code": ["统一社会信用代码为 18 位。"]}),
])
def test_wtforms_validators(app, data, attrs, errors):
    with app.test_request_context():
        form = _form(app, data, **attrs)
        assert {name: list(e) for name, e in form.errors.items()} == errors


def test_a_valid_id_number_fills_gender_and_age_on_the_forms_date(app):
    with app.test_request_context():
        form = _form(app, {"id_number": "１１０１０５１９８００１０１００１６", "code": "a"},
                     today=date(2026, 1, 1))
        assert (form.id_number.data, form.gender.data, form.age.data) == (ID_1980, "male", "46")


def test_the_names_formerly_in_core_fields_are_the_validators_module_s():
    from talentadmin.core import fields, forms, validators

    for name in ("DIGITS_MESSAGE", "PASSWORD_MAX", "PASSWORD_MIN", "MobileNumber", "Money",
                 "SmsCodeFormat", "password_length", "password_max", "required"):
        assert getattr(fields, name) is getattr(validators, name), name
    for name in ("single_line", "multi_line", "strip_controls"):
        assert getattr(forms, name) is getattr(validators, name), name
