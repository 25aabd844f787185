"""licence.py on hand-written OCR lines: labels, layouts, decoys and credit-code folding."""

from __future__ import annotations

import random

import pytest

from talentadmin.certification.licence import (
    LicenceFields,
    code_candidates,
    correct_code,
    lines_to_read,
    normalise_name,
    parse_licence,
    strip_label_fragments,
)
from talentadmin.core.creditcode import complete_code, credit_code_problems
from talentadmin.core.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    is_valid_credit_code,
)

CODE = "91110105MA01R8DQ2M"  # passes the check character


@pytest.fixture(autouse=True)
def _clean_database():
    """No app and no database here: overrides the suite-wide autouse fixture of that name."""
    yield
NAME = "北京朝阳云帆智联科技有限公司"


def line(text: str, x: float, y: float, w: float | None = None, h: float = 30,
         tilt: float = 0.0, conf: float = 0.99):
    """An OCR line: ``text`` in a box at (x, y), ``tilt`` pixels of drop per 100 px of width."""
    w = w if w is not None else 30 * len(text)
    drop = tilt * w / 100
    return (text, [(x, y), (x + w, y + drop), (x + w, y + h + drop), (x, y + h)], conf)


def landscape(name_row: list, code_rows: list | None = None) -> list:
    """A landscape licence (two columns) with the 名称 row given by the test."""
    code_rows = code_rows if code_rows is not None else [
        line("统一社会信用代码", 130, 160, 240), line(CODE, 420, 160, 330)]
    return [
        line("编号169898725438005368142", 1300, 90),
        *code_rows,
        line("营业执照", 700, 180, 500, 120),
        line("(副 本)", 900, 350, 120),
        *name_row,
        line("注册资本", 1070, 520), line("人民币伍佰万元整", 1310, 520),
        line("类", 170, 610), line("型", 320, 610),
        line("有限责任公司（自然人投资或控股)", 420, 610),
        line("成立日期", 1070, 610), line("2019年06月18日", 1310, 610),
        line("法定代表人", 170, 700), line("王立新", 420, 700),
        line("经营范围", 170, 790), line("技术开发、技术咨询、技术服务、技术推广", 420, 790),
        line("住", 1070, 790), line("所", 1210, 790), line("北京市朝阳区望京街道阜通东大街6", 1310, 790),
        line("；软件开发；为北京某某网络有限公司", 420, 835),
        line("国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", 730, 1280),
        line("国家市场监督管理总局监制", 880, 1320),
    ]


def parse(lines: list) -> LicenceFields:
    return parse_licence(lines)


# --- 名称 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name_row",
    [
        pytest.param([line("名称", 170, 520, 150), line(NAME, 420, 520)], id="label-box"),
        pytest.param([line("名", 170, 520), line("称", 320, 520), line(NAME, 420, 520)],
                     id="split-label"),
        pytest.param([line("名        称", 170, 520, 180), line(NAME, 420, 520)], id="spaced-label"),
        pytest.param([line("名类", 170, 520, 30, 120), line("称", 320, 520), line(NAME, 420, 520)],
                     id="label-merged-with-next-row"),
        pytest.param([line("称", 320, 520), line(NAME, 420, 520)], id="only-second-char"),
        pytest.param([line(f"名称{NAME}", 170, 520)], id="glued"),
        pytest.param([line(f"名称：{NAME}", 170, 520)], id="glued-fullwidth-colon"),
        pytest.param([line("名称:", 170, 520), line(NAME, 420, 520)], id="ascii-colon"),
        pytest.param([line("名", 170, 520), line(f"称 {NAME}", 320, 520)], id="half-glued"),
        pytest.param([line("名", 170, 520), line(f"称☑{NAME}", 320, 520)], id="debris"),
        pytest.param([line("名称", 170, 520, 150), line(NAME[:8], 420, 520),
                      line(NAME[8:], 420 + 30 * 8 + 10, 520)], id="value-split-in-two"),
        pytest.param([line("名称", 170, 520, 150), line(NAME + "注册资本", 420, 520)],
                     id="value-glued-to-next-label"),
        pytest.param([line("名称", 170, 520, 150, tilt=4), line(NAME, 420, 536, tilt=4)],
                     id="tilted-row"),
    ],
)
def test_name_in_landscape_layouts(name_row):
    fields = parse(landscape(name_row))
    assert fields.name == NAME
    assert (fields.credit_code, fields.credit_code_valid) == (CODE, True)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("华信恒泰(北京)投资管理有限公司", "华信恒泰（北京）投资管理有限公司"),
        ("华信恒泰（北京)投资管理有限公司", "华信恒泰（北京）投资管理有限公司"),
        ("华信恒泰（北京）投资管理有限公司", "华信恒泰（北京）投资管理有限公司"),
        ("苏州博思管理咨询合伙企业(有限合伙)", "苏州博思管理咨询合伙企业（有限合伙）"),
        ("北京市金诚律师事务所", "北京市金诚律师事务所"),
        ("广州天河会计师事务所（特殊普通合伙", "广州天河会计师事务所（特殊普通合伙）"),
    ],
)
def test_brackets_are_full_width(printed, expected):
    fields = parse(landscape([line("名称", 170, 520, 150), line(printed, 420, 520)]))
    assert fields.name == expected


def test_normalise_name():
    assert normalise_name(" 华信 恒泰(北京) 有限公司。") == "华信恒泰（北京）有限公司"
    assert normalise_name("：北京某某有限公司|") == "北京某某有限公司"


def portrait(name_rows: list, person_label: str = "法定代表人", person: str = "沈佳怡") -> list:
    return [
        line("编号113445841536320858976", 700, 100),
        line("统一社会信用代码", 130, 170, 240),
        line("91330106MA2CD4PH17", 130, 225, 380),
        line("(1-1)", 250, 270, 60),
        line("营业执照", 420, 400, 560, 120),
        *name_rows,
        line("类", 160, 780), line("型", 320, 780),
        line("有限责任公司分公司（自然人投资或控股）", 400, 780),
        line(person_label, 160, 870), line(person, 400, 870),
        line("营业场所", 160, 1140), line("浙江省杭州市西湖区文三路259号昌地火炬大厦1号楼10", 400, 1140),
        line("2室", 400, 1185),
        line("经营范围", 160, 1270), line("餐饮服务；食品销售；餐饮管理；外卖递送服务；会议及展览服", 400, 1270),
    ]


def test_portrait_edition():
    name = "杭州绿源餐饮管理有限公司西湖分公司"
    fields = parse(portrait([line("名", 160, 690), line("称", 320, 690), line(name, 400, 690)]))
    assert fields == LicenceFields(name, "91330106MA2CD4PH17", True)


def test_portrait_name_wrapped_on_two_lines():
    rows = [line("名", 160, 690), line("称", 320, 690),
            line("西安曲江新区文化旅游（集团）演艺有限公司大唐", 400, 690),
            line("不夜城分公司", 400, 735)]
    assert parse(portrait(rows)).name == "西安曲江新区文化旅游（集团）演艺有限公司大唐不夜城分公司"


@pytest.mark.parametrize(("first", "second"), [
    ("苏州博思管理咨询合伙企业（有限合", "伙）"),
    ("苏州博思管理咨询合伙企业（有限", "合伙）"),
    ("苏州博思管理咨询合伙企业", "（有限合伙）"),
])
def test_wrapped_name_split_inside_the_brackets(first, second):
    rows = [line("名称", 160, 690, 150), line(first, 400, 690), line(second, 400, 735)]
    assert parse(portrait(rows)).name == "苏州博思管理咨询合伙企业（有限合伙）"


def test_wrapped_branch_name_whose_first_line_is_already_a_company():
    rows = [line("名称", 160, 690, 150), line("杭州绿源餐饮管理有限公司", 400, 690),
            line("西湖分公司", 400, 735)]
    assert parse(portrait(rows)).name == "杭州绿源餐饮管理有限公司西湖分公司"


def test_wrapped_line_under_glued_label_on_a_tilted_photo():
    rows = [line("名", 160, 690), line("称 西安曲江新区文化旅游（集团）演艺有限公司大唐", 320, 690, tilt=6),
            line("不夜城分公司", 400, 730, tilt=6)]
    assert parse(portrait(rows)).name == "西安曲江新区文化旅游（集团）演艺有限公司大唐不夜城分公司"


def test_next_row_is_not_taken_as_a_wrapped_name():
    rows = [line("名称", 160, 690, 150), line("杭州绿源餐饮", 400, 690)]
    assert parse(portrait(rows)).name == "杭州绿源餐饮"


def test_partner_company_is_not_the_name():
    name = "苏州工业园区博思管理咨询合伙企业（有限合伙）"
    lines = portrait([line("名称", 160, 690, 150), line(name, 400, 690)],
                     person_label="执行事务合伙人", person="苏州博思投资管理有限公司（委派代表：陈立）")
    assert parse(lines).name == name


@pytest.mark.parametrize("name_row", [
    pytest.param([line(NAME, 420, 520)], id="label-lost"),
    pytest.param([line("名称", 170, 520, 150), line(NAME, 420, 562)], id="value-off-the-row"),
])
def test_fallback_is_the_company_line_not_a_decoy(name_row):
    assert parse(landscape(name_row)).name == NAME


def test_fallback_without_any_name_ignores_type_person_and_scope():
    lines = [entry for entry in landscape([]) if entry[0] not in ("名称",)]
    assert parse(lines).name is None


def test_fallback_prefers_the_line_nearest_the_label():
    lines = landscape([line("名", 170, 520), line("称", 320, 520)])
    lines += [line("上海某某咨询有限公司", 1310, 1150), line(NAME, 420, 565)]
    assert parse(lines).name == NAME


def test_type_row_company_words_are_not_a_name():
    lines = [line("类型", 170, 610, 150), line("股份有限公司", 420, 610), line("型有限合伙企业", 320, 650),
             line("有限责任公司分公司", 420, 700), line("住所", 170, 790, 150),
             line("北京市朝阳区某某大厦", 420, 790)]
    assert parse(lines).name is None


# --- 统一社会信用代码 -----------------------------------------------------------------


def code_with(rng: random.Random, region: str = "110105") -> str:
    """A random code passing every check (GB 11714 and GB 32100 check characters)."""
    return complete_code("91" + region + "".join(rng.choice(CREDIT_CODE_ALPHABET)
                                                 for _ in range(8)))


@pytest.mark.parametrize(
    "code_rows",
    [
        pytest.param([line("统一社会信用代码", 130, 160, 240), line(CODE, 420, 160)], id="right"),
        pytest.param([line(f"统一社会信用代码{CODE}", 130, 160)], id="glued"),
        pytest.param([line(f"统一社会信用代码：{CODE}", 130, 160)], id="glued-colon"),
        pytest.param([line("统一社会", 130, 160, 120), line("信用代码", 260, 160, 120),
                      line(CODE, 420, 160)], id="split-label"),
        pytest.param([line("统一社会信用代码", 130, 160, 240), line(CODE[:9], 420, 160),
                      line(CODE[9:], 700, 160)], id="split-code"),
        pytest.param([line("统一社会信用代码", 130, 160, 240), line("9111 0105 MA01 R8DQ2M", 420, 160)],
                     id="spaces"),
        pytest.param([line("统一社会信用代码", 130, 160, 240), line("９１１１０１０５ＭＡ０１Ｒ８ＤＱ２Ｍ", 420, 160)],
                     id="full-width"),
        pytest.param([line("统一社会信用代码", 130, 160, 240), line(CODE.lower(), 420, 160)],
                     id="lower-case"),
        pytest.param([line("统一社会信用代码", 130, 160, 240), line(CODE, 130, 205)], id="below"),
        pytest.param([line(CODE, 420, 160)], id="no-label"),
    ],
)
def test_code_layouts(code_rows):
    fields = parse(landscape([line("名称", 170, 520, 150), line(NAME, 420, 520)], code_rows))
    assert (fields.credit_code, fields.credit_code_valid) == (CODE, True)


@pytest.mark.parametrize(
    ("read_as", "real"),
    [
        ("91110105MAO1R8DQ2M", "91110105MA01R8DQ2M"),  # O for 0
        ("9III0I05MA0IR8DQ2M", "91110105MA01R8DQ2M"),  # I for 1
        ("91110105MA01R8DQZM", "91110105MA01R8DQ2M"),  # Z for 2
    ],
)
def test_confusions_are_folded(read_as, real):
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(read_as, 420, 160)])
    assert (fields.credit_code, fields.credit_code_valid) == (real, True)


def test_confusions_s_and_v():
    rng = random.Random(5)
    while True:
        code = code_with(rng)
        if "5" in code[8:] and "U" in code[8:]:
            break
    read_as = code[:8] + code[8:].replace("5", "S").replace("U", "V")
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(read_as, 420, 160)])
    assert (fields.credit_code, fields.credit_code_valid) == (code, True)


def test_code_candidates_fold_only_letters_the_code_never_uses():
    assert code_candidates("代码 9ISZOV-x") == ["91520U", "X"]


def test_wrong_check_character_is_returned_but_not_valid():
    wrong = CODE[:-1] + ("A" if CODE[-1] != "A" else "B")
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(wrong, 420, 160)])
    assert (fields.credit_code, fields.credit_code_valid) == (wrong, False)


def test_misread_character_never_yields_a_valid_code():
    misread = CODE[:10] + "8" + CODE[11:]  # 1 read as 8
    assert not is_valid_credit_code(misread)
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(misread, 420, 160)])
    assert fields.credit_code == misread
    assert fields.credit_code_valid is False


def test_short_read_is_returned_not_valid():
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(CODE[:17], 420, 160)])
    assert (fields.credit_code, fields.credit_code_valid) == (CODE[:17], False)


def serial_with_a_passing_window(rng: random.Random) -> str:
    """A 21-digit licence serial number in which an 18-digit window passes the check."""
    while True:
        body = rng.choice("19") + "".join(rng.choice("0123456789") for _ in range(16))
        check = credit_code_check_char(body)
        if check.isdigit():
            return "12" + body + check + "7"


def test_serial_number_is_never_taken_for_the_code():
    serial = serial_with_a_passing_window(random.Random(7))
    assert any(is_valid_credit_code(serial[i:i + 18]) for i in range(4))
    lines = [line(f"编号 {serial}", 1300, 90), line("名称", 170, 520, 150), line(NAME, 420, 520)]
    assert parse(lines) == LicenceFields(NAME, None, False)
    split = [line("编号", 1200, 90, 60), line(serial, 1270, 90)]
    assert parse(split).credit_code is None


def test_serial_number_does_not_hide_an_unlabelled_code():
    serial = serial_with_a_passing_window(random.Random(8))
    lines = [line(f"编号{serial}", 1300, 90), line(CODE, 420, 160)]
    assert parse(lines).credit_code == CODE


def test_labelled_code_wins_over_other_valid_codes():
    other = code_with(random.Random(3))
    lines = [line(other, 900, 1000), line("统一社会信用代码", 130, 160, 240), line(CODE, 420, 160)]
    assert parse(lines).credit_code == CODE


def test_long_run_next_to_the_label_uses_the_plausible_window():
    fields = parse([line("统一社会信用代码", 130, 160, 240), line(CODE + "7", 420, 160)])
    assert (fields.credit_code, fields.credit_code_valid) == (CODE, True)


def test_nothing_found():
    assert parse([]) == LicenceFields(None, None, False)
    assert parse([line("营业执照", 700, 180), line("2019年06月18日", 420, 610)]) == LicenceFields(
        None, None, False
    )


# --- staged recognition ------------------------------------------------------------


def test_lines_to_read_are_the_boxes_next_to_the_labels():
    known = [line("统一社会信用代码", 130, 160, 240), line("名", 170, 520), line("称", 320, 520),
             line("注册资本", 1070, 520), line("类", 170, 610), line("型", 320, 610)]
    unread = [
        line("x", 1310, 520, 300)[1],  # capital value: right column, not wanted
        line("x", 420, 160, 330)[1],  # the code
        line("x", 420, 610, 450)[1],  # the type value
        line("x", 420, 520, 420)[1],  # the name
        line("x", 420, 790, 600)[1],  # business scope
    ]
    assert lines_to_read(known, unread) == [1, 3]


def test_lines_to_read_include_a_wrapped_name_and_a_code_below():
    known = [line("统一社会信用代码", 130, 170, 240), line("名称:", 160, 690, 150)]
    unread = [line("x", 130, 225, 380)[1], line("x", 400, 690, 600)[1],
              line("x", 400, 735, 200)[1], line("x", 400, 900, 600)[1]]
    assert lines_to_read(known, unread) == [0, 1, 2]


def test_complete_needs_a_labelled_name_and_a_valid_code():
    labelled = parse([line("名称", 170, 520, 150), line(NAME, 420, 520),
                      line("统一社会信用代码", 130, 160, 240), line(CODE, 420, 160)])
    assert labelled.complete
    assert not parse([line(NAME, 420, 520), line(CODE, 420, 160)]).complete
    assert not parse([line("名称", 170, 520, 150), line(NAME, 420, 520)]).complete


# --- every check, and corrections ------------------------------------------------------

# 91441900MA2EAMXB8B read with both B of positions 16 and 18 as 8 (defocus): the GB 32100
# check character still matches, the GB 11714 one of the organisation code does not.
TRUE_CODE = "91441900MA2EAMXB8B"
DEFOCUSED = "91441900MA2EAMX888"


def code_lines(read: str, conf=0.99) -> list:
    return [line("统一社会信用代码", 130, 160, 240), line(read, 420, 160, conf=conf)]


def test_wrong_code_passing_gb32100_is_never_reported_valid_and_is_corrected():
    assert credit_code_problems(DEFOCUSED) == ["organisation"]
    fields = parse(code_lines(DEFOCUSED))
    assert fields.credit_code_valid is False
    assert (fields.credit_code, fields.code_corrected_from) == (TRUE_CODE, DEFOCUSED)
    assert correct_code(DEFOCUSED) == TRUE_CODE


def test_a_valid_reading_is_not_a_correction():
    fields = parse(code_lines(TRUE_CODE))
    assert (fields.credit_code, fields.credit_code_valid) == (TRUE_CODE, True)
    assert fields.code_corrected_from is None
    assert correct_code(TRUE_CODE) is None


def test_two_passing_candidates_are_no_correction():
    # Read 91441900MAN8AQ7G7J with 8 as B and Q as 0: with the line's score only, another
    # code within two confusions passes every check too, so nothing is corrected.
    read = "91441900MANBA07G7J"
    assert correct_code(read) is None
    fields = parse(code_lines(read))
    assert (fields.credit_code, fields.credit_code_valid, fields.code_corrected_from) == (
        read, False, None)


def test_character_scores_pick_the_positions_to_correct():
    read, truth = "91441900MANBA07G7J", "91441900MAN8AQ7G7J"
    scores = [0.5 if i in (11, 13) else 0.99 for i in range(18)]
    assert correct_code(read, scores) == truth
    fields = parse(code_lines(read, conf=scores))
    assert (fields.credit_code, fields.code_corrected_from) == (truth, read)
    assert fields.credit_code_valid is False


def test_letters_in_the_division_part_are_read_as_digits():
    read = "9144190D" + TRUE_CODE[8:]  # 91441900 with its last 0 read as D
    assert correct_code(read) == TRUE_CODE
    assert correct_code("9144190A" + TRUE_CODE[8:]) is None  # A is no digit's confusion


@pytest.mark.parametrize("read", [
    TRUE_CODE[:17],  # too short
    "91441900MA2EAMXB8A",  # check character A: no confusion reaches the truth
    "94441900MA2EAMXB8B",  # registrar 94 is no confusion of 91
])
def test_uncorrectable_readings_stay_as_read(read):
    assert correct_code(read) is None


def test_confusion_corrections_on_a_generated_set():
    """One or two confusions (8↔B, 0↔D↔Q, 1↔T, 6↔G) on random valid codes: with character
    scores every one is corrected; with the line's score only, nearly all, and a wrong code is
    rare (figures in the README). Three confusions are never corrected to the truth."""
    confusable = {"8": "B", "B": "8", "0": "DQ", "D": "0Q", "Q": "0D", "1": "T", "T": "1",
                  "6": "G", "G": "6"}
    rng = random.Random(21)
    outcome = {(n, mode): [0, 0, 0] for n in (1, 2) for mode in ("chars", "line")}
    for _ in range(1500):
        code = code_with(rng, rng.choice(["110105", "441900", "310115", "330106"]))
        spots = [i for i in range(18) if code[i] in confusable and not 2 <= i < 8]
        for n in (1, 2):
            if len(spots) < n:
                continue
            chosen = rng.sample(spots, n)
            read = "".join(rng.choice(confusable[c]) if i in chosen else c
                           for i, c in enumerate(code))
            for mode, scores in (("chars", [0.5 if i in chosen else 0.99 for i in range(18)]),
                                 ("line", None)):
                fixed = correct_code(read, scores)
                outcome[n, mode][0 if fixed == code else 1 if fixed is None else 2] += 1
    for n in (1, 2):
        right, _none, wrong = outcome[n, "chars"]
        assert wrong == 0 and right / sum(outcome[n, "chars"]) > 0.99
        right, _none, wrong = outcome[n, "line"]
        assert right / sum(outcome[n, "line"]) > 0.9 and wrong / right < 0.005


# --- names: label pieces, confidence, suffixes -------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("称东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("名称：东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("名称东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("称:东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("名:东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("【名称】东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("(名称)东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("：东莞市云帆智联科技有限公司", "东莞市云帆智联科技有限公司"),
    ("名创优品（广州）有限责任公司", "名创优品(广州)有限责任公司"),  # a name that starts with 名
    ("东莞市名称科技有限公司", "东莞市名称科技有限公司"),  # 名称 inside a name stays
])
def test_label_fragments_are_stripped(raw, clean):
    assert strip_label_fragments(raw) == clean


def test_second_label_character_glued_to_the_name():
    name = "东莞市云帆智联科技有限公司"
    fields = parse(landscape([line(f"称{name}", 320, 520)]))
    assert fields.name == name and fields.name_from_label
    fields = parse(landscape([line("名", 170, 520), line(f"称{name}", 320, 520)]))
    assert fields.name == name
    fields = parse(landscape([line(f"称：{name}", 320, 520)]))
    assert fields.name == name


def test_name_starting_with_ming_keeps_it():
    name = "名创优品（广州）有限责任公司"
    fields = parse(landscape([line("名称", 170, 520, 150), line(name, 420, 520)]))
    assert fields.name == name


def test_uncertain_name_characters_are_marked():
    name = "东莞市云帆智联科技有限公司"
    scores = [0.99] * len(name)
    scores[4] = 0.41  # 帆
    fields = parse(landscape([line("名称", 170, 520, 150), line(name, 420, 520, conf=scores)]))
    assert fields.name == name and fields.name_uncertain == (4,)
    fields = parse(landscape([line("名称", 170, 520, 150), line(name, 420, 520)]))
    assert fields.name_uncertain == ()
    low = parse(landscape([line("名称", 170, 520, 150), line(name, 420, 520, conf=0.6)]))
    assert low.name_uncertain == tuple(range(len(name)))  # a line score only: all of it
    bracketed = "东莞云帆（广州）科技有限公司"
    scores = [0.99] * len(bracketed)
    scores[4] = scores[7] = 0.5  # the brackets: normalised whatever was read
    fields = parse(landscape([line("名称", 170, 520, 150),
                              line(bracketed, 420, 520, conf=scores)]))
    assert fields.name == bracketed and fields.name_uncertain == ()


def test_uncertain_characters_follow_the_label_strip():
    name = "东莞市云帆智联科技有限公司"
    scores = [0.99] * (len(name) + 1)
    scores[5] = 0.3  # 帆, after the glued 称
    fields = parse(landscape([line(f"称{name}", 320, 520, conf=scores)]))
    assert fields.name == name and fields.name_uncertain == (4,)


def test_confident_name_with_a_company_suffix_is_preferred():
    # Glare: the labelled value lost its last character and was read with a low score; the
    # same name is printed on a line elsewhere, read cleanly.
    name = "东莞市云帆智联科技有限公司"
    rows = [line("名称", 170, 520, 150), line(name[:-1], 420, 520, conf=0.55),
            line(name, 420, 1100)]
    assert parse(landscape(rows)).name == name
    # A labelled name read cleanly wins over any other company line.
    rows = [line("名称", 170, 520, 150), line(name, 420, 520),
            line("北京某某网络有限公司", 420, 1100)]
    fields = parse(landscape(rows))
    assert fields.name == name and fields.name_from_label
