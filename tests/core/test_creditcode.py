"""core/creditcode.py: every part of a credit code checked, each failure named."""

from __future__ import annotations

import random

import pytest

from talentadmin.core.creditcode import (
    ALPHABET,
    REGISTRARS,
    complete_code,
    credit_code_problems,
    credit_code_valid,
    gb32100_check_char,
    is_division,
    organisation_check_char,
    parse_problems,
    problem_message,
    soft_problems,
)
from talentadmin.core.data.divisions import CODES as DIVISIONS
from talentadmin.core.validators import validate_credit_code


@pytest.fixture(autouse=True)
def _clean_database():
    """No app and no database here: overrides the suite-wide autouse fixture of that name."""
    yield


@pytest.mark.parametrize("code", [
    "91110105MA01R8DQ2M",  # an enterprise, organisation code issued since 2015 (MA…)
    "9144190035641989XY",  # an older numeric organisation code whose check character is X
    "52440305077728171W",  # 民政: a 民办非企业单位
    "31110000E00017381A",  # 司法行政: a law firm
    "92350102379530451N",  # 个体工商户
])
def test_valid_codes_pass_every_check(code):
    assert credit_code_problems(code) == [] and credit_code_valid(code)
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(("body", "check"), [
    ("12345678", "8"),  # 3+14+27+40+25+48+28+16 = 201, 201 % 11 = 3, 11 - 3 = 8
    ("00000000", "0"),  # 11 - 0 = 11, written 0
    ("00000006", "X"),  # 12 % 11 = 1, 11 - 1 = 10, written X
    ("A0000000", "3"),  # letters count from A = 10: 30 % 11 = 8, 11 - 8 = 3
    ("MA01R8DQ", "2"),
])
def test_gb11714_check_character(body, check):
    assert organisation_check_char(body) == check


def test_a_code_passing_gb32100_but_failing_gb11714_is_not_valid():
    # 91441900MA2EAMXB8B with both B of positions 16 and 18 read as 8: the GB 32100 check
    # character still matches, the organisation code's does not.
    misread = "91441900MA2EAMX888"
    assert gb32100_check_char(misread[:17]) == misread[17]
    assert credit_code_problems(misread) == ["organisation"]
    assert not credit_code_valid(misread)
    assert soft_problems(misread) == ["organisation"]
    assert validate_credit_code(misread) == misread  # typed, it is accepted (and flagged)


def test_division_codes_current_retired_and_central():
    assert is_division("441900")  # 东莞市
    assert is_division("110105")  # 北京市朝阳区
    assert is_division("110103") and is_division("110104")  # 崇文区, 宣武区: merged in 2010
    assert is_division("100000")  # registered by a central authority
    assert not is_division("999999") and not is_division("110199") and not is_division("")
    assert len(DIVISIONS) > 7000
    retired = complete_code("91110103" + "10001000")
    assert credit_code_valid(retired)


def test_unknown_division_is_named():
    code = complete_code("91999999" + "MA01R8DQ")
    assert credit_code_problems(code) == ["division"]


@pytest.mark.parametrize(("pair", "ok"), [
    ("91", True), ("92", True), ("93", True), ("11", True), ("12", True), ("13", True),
    ("19", True), ("51", True), ("52", True), ("53", True), ("59", True), ("31", True),
    ("A1", True), ("N1", True), ("N3", True), ("Y1", True), ("81", True), ("71", True),
    ("94", False), ("14", False), ("Y2", False), ("B1", False), ("01", False), ("21", True),
    ("22", False), ("A2", False), ("9A", False),
])
def test_registration_authority_and_category(pair, ok):
    code = complete_code(pair + "441900" + "MA01R8DQ")
    assert (credit_code_problems(code) == []) is ok
    if not ok:
        assert credit_code_problems(code) == ["registrar"]


def test_several_failures_are_all_named_in_the_order_of_the_parts():
    code = "94999999MA01R8DQ3M"
    assert credit_code_problems(code) == ["registrar", "division", "organisation", "check"]
    assert soft_problems(code) == ["registrar", "division", "organisation"]


@pytest.mark.parametrize(("code", "problem"), [
    ("91110105MA01R8DQ2", "length"), ("91110105MA01R8DQ2MM", "length"), ("", "length"),
    ("91110105MAO1R8DQ2M", "alphabet"), ("91110105ma01r8dq2m", "alphabet"),
])
def test_shape_problems_come_alone(code, problem):
    assert credit_code_problems(code) == [problem]


def test_messages_and_stored_form(app):
    with app.test_request_context():
        assert "GB 11714" in problem_message("organisation")
        assert problem_message("unknown") == "unknown"
    assert parse_problems("division,organisation") == ["division", "organisation"]
    assert parse_problems(None) == [] and parse_problems("") == []


def _random_codes(rng: random.Random, count: int) -> list[str]:
    divisions = sorted(DIVISIONS)
    pairs = [a + c for a, cats in REGISTRARS.items() for c in cats]
    codes = []
    for _ in range(count):
        if rng.random() < 0.6:
            org = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
        else:
            org = "".join(rng.choice("0123456789") for _ in range(8))
        codes.append(complete_code(rng.choice(pairs) + rng.choice(divisions) + org))
    return codes


def test_generated_set_no_false_flags_and_every_single_substitution_caught():
    """Random codes from real divisions are never flagged; each single wrong character is
    caught by GB 32100, and most also by another check (figures in the README)."""
    rng = random.Random(2026)
    codes = _random_codes(rng, 2000)
    assert all(credit_code_valid(c) for c in codes)
    caught = {"registrar": 0, "division": 0, "organisation": 0, "check": 0}
    for code in codes:
        i = rng.randrange(18)
        wrong = code[:i] + rng.choice([c for c in ALPHABET if c != code[i]]) + code[i + 1:]
        problems = credit_code_problems(wrong)
        assert "check" in problems
        for problem in problems:
            caught[problem] += 1
    assert caught["check"] == 2000
    assert caught["organisation"] > 800 and caught["division"] > 400


def test_two_confusions_passing_gb32100_are_caught_by_the_other_checks():
    """8↔B, 0↔D, 1↔T, 6↔G twice: about one misreading in twenty still passes GB 32100; the
    registrar, division and GB 11714 checks catch more than four in five of those (the rest
    are beyond what the code's redundancy can tell)."""
    confusable = {"8": "B", "B": "8", "0": "D", "D": "0", "1": "T", "T": "1", "6": "G",
                  "G": "6"}
    rng = random.Random(14)
    total = passing_gb32100 = caught = 0
    for code in _random_codes(rng, 3000):
        spots = [i for i in range(18) if code[i] in confusable and not 2 <= i < 8]
        for a in range(len(spots)):
            for b in range(a + 1, len(spots)):
                chars = list(code)
                chars[spots[a]] = confusable[chars[spots[a]]]
                chars[spots[b]] = confusable[chars[spots[b]]]
                wrong = "".join(chars)
                total += 1
                if gb32100_check_char(wrong[:17]) == wrong[17]:
                    passing_gb32100 += 1
                    caught += bool(credit_code_problems(wrong))
    assert 0.02 < passing_gb32100 / total < 0.1
    assert caught / passing_gb32100 > 0.8
