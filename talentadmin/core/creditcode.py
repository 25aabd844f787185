"""The unified social credit code (统一社会信用代码, GB 32100-2015) and the redundancy it carries.

An 18-character code is four parts, and each part can be checked on its own:

==========  =====================================================  ========================
positions   what                                                   checked against
==========  =====================================================  ========================
1–2         registration authority + category (登记管理部门/机构类别)  :data:`REGISTRARS`
3–8         administrative division of the registering office      GB/T 2260 (current and
                                                                   retired codes, shipped in
                                                                   :mod:`.data.divisions`)
9–17        organisation code (组织机构代码, GB 11714); position 17  its GB 11714 check char
            is its own check character (0–9 or X)
18          GB 32100 check character over positions 1–17           mod-31 check
==========  =====================================================  ========================

:func:`credit_code_problems` names every check a code fails; :func:`credit_code_valid` holds
only when none fails. A typed code failing only the soft checks (:data:`SOFT_PROBLEMS`:
registrar pair, division, organisation check) is accepted but flagged for staff: real
registries have oddities. A code failing the GB 32100 check character is refused.

Pure functions, no I/O; the messages are lazily translated.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .data.divisions import CODES as DIVISIONS

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
LENGTH = 18
_GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 32100-2015 table A.1 (registration authority → institution categories), with the pairs
# assigned since (村/居民委员会 54/55, 商事调解 36, 非法人工会 82, 市场监管 99, 公安 G,
# 住建 J, 侨联 Q), cross-checked against published validator tables.
REGISTRARS: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 编办直接管理的群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 商事调解组织, 其他
    "3": "1234569",
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "123459",  # 民政: 社会团体, 民办非企业单位, 基金会, 村民委员会, 居民委员会, 其他
    "6": "129",  # 旅游: 外国旅游部门常驻代表机构, 港澳台旅游部门常驻代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "129",  # 工会: 基层工会, 非法人工会组织, 其他
    "9": "1239",  # 工商/市场监管: 企业, 个体工商户, 农民专业合作社, 其他
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "G": "19",  # 公安: 境外非政府组织代表机构, 其他
    "J": "19",  # 住房和城乡建设: 业主大会, 其他
    "N": "1239",  # 农业农村: 组级, 村级, 乡镇级集体经济组织, 其他
    "Q": "1239",  # 侨联: 区县级, 乡镇级, 村级侨联组织, 其他
    "Y": "1",  # 其他
}

# Problems, in the order of the code's parts. ``length``/``alphabet``/``check`` are hard.
LENGTH_PROBLEM = "length"
ALPHABET_PROBLEM = "alphabet"
REGISTRAR_PROBLEM = "registrar"
DIVISION_PROBLEM = "division"
ORGANISATION_PROBLEM = "organisation"
CHECK_PROBLEM = "check"
SOFT_PROBLEMS = frozenset({REGISTRAR_PROBLEM, DIVISION_PROBLEM, ORGANISATION_PROBLEM})

MESSAGES = {
    LENGTH_PROBLEM: _l("The unified social credit code has 18 characters."),
    ALPHABET_PROBLEM: _l("Use digits and capital letters only; the code never contains "
                         "I, O, S, V or Z."),
    REGISTRAR_PROBLEM: _l("Characters 1–2 are not a registration authority and category "
                          "of GB 32100."),
    DIVISION_PROBLEM: _l("Characters 3–8 are not an administrative division code "
                         "(GB/T 2260, current or retired)."),
    ORGANISATION_PROBLEM: _l("Characters 9–17 are not a valid organisation code: its check "
                             "character (the 17th) does not match (GB 11714)."),
    CHECK_PROBLEM: _l("The last character (check character) does not match the first 17: "
                      "check the code against the licence."),
}


def gb32100_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) of the first 17 characters."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, _GB32100_WEIGHTS, strict=False))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check_char(body8: str) -> str:
    """The GB 11714 check character of an organisation code's first 8 characters.

    Digits count as their value, letters A–Z as 10–35; check = 11 − (Σ value·weight mod 11),
    with 10 written ``X`` and 11 written ``0``.
    """
    total = sum(int(c, 36) * w for c, w in zip(body8, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_division(code6: str) -> bool:
    """Whether ``code6`` is a GB/T 2260 division code (current or retired) or 100000."""
    return code6 in DIVISIONS


def registrar_ok(pair: str) -> bool:
    """Whether the first two characters are a registration authority and its category."""
    return len(pair) == 2 and pair[1] in REGISTRARS.get(pair[0], "")


def credit_code_problems(code: str) -> list[str]:
    """Every check ``code`` fails (empty when the code is valid), in the order of its parts.

    ``length`` or ``alphabet`` alone when the code is not 18 characters of the alphabet (the
    other checks then mean nothing).
    """
    if len(code) != LENGTH:
        return [LENGTH_PROBLEM]
    if any(c not in ALPHABET for c in code):
        return [ALPHABET_PROBLEM]
    problems = []
    if not registrar_ok(code[:2]):
        problems.append(REGISTRAR_PROBLEM)
    if not is_division(code[2:8]):
        problems.append(DIVISION_PROBLEM)
    if organisation_check_char(code[8:16]) != code[16]:
        problems.append(ORGANISATION_PROBLEM)
    if gb32100_check_char(code[:17]) != code[17]:
        problems.append(CHECK_PROBLEM)
    return problems


def credit_code_valid(code: str) -> bool:
    """All four checks hold: registrar pair, division, GB 11714 and GB 32100."""
    return not credit_code_problems(code)


def soft_problems(code: str) -> list[str]:
    """The problems a typed code may have and still be accepted (flagged for staff)."""
    return [p for p in credit_code_problems(code) if p in SOFT_PROBLEMS]


def complete_code(first16: str) -> str:
    """``first16`` (registrar, division, 8-character organisation body) with both check
    characters appended: a code passing GB 11714 and GB 32100."""
    first17 = first16 + organisation_check_char(first16[8:16])
    return first17 + gb32100_check_char(first17)


def problem_message(problem: str) -> str:
    """The translated sentence for a problem key (the key itself when unknown)."""
    message = MESSAGES.get(problem)
    return str(message) if message is not None else problem


def parse_problems(stored: str | None) -> list[str]:
    """Problem keys from their stored form (comma-separated)."""
    return [p for p in (stored or "").split(",") if p]
