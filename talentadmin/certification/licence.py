"""Turn the OCR lines of a business licence (营业执照) into its 名称 and 统一社会信用代码.

Pure Python: no OCR import. Input lines are ``(text, box, confidence)`` with ``box`` four
``(x, y)`` points in an upright page frame (y grows downwards) and ``confidence`` the line's
score or one score per character of ``text``.

A credit code is reported valid only when it was read as printed and passes every check of
:mod:`talentadmin.core.creditcode` (registrar pair, division, GB 11714, GB 32100). A code that
fails is corrected when exactly one code within the OCR confusions passes them all; the
correction is reported as such (``code_corrected_from``), never as a valid reading.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import combinations, product

from talentadmin.core.creditcode import ALPHABET as CREDIT_CODE_ALPHABET
from talentadmin.core.creditcode import credit_code_valid

Point = tuple[float, float]
Confidence = float | Sequence[float]  # the line's score, or one per character
OcrLine = tuple[str, Sequence[Point], Confidence]

NAME_LABEL = "名称"
CODE_LABEL = "统一社会信用代码"
_CODE_LABEL_PARTS = ("信用代码", "社会信用", "统一社会")

# Other field labels of the portrait and landscape editions (individual and partnership too).
OTHER_LABELS = (
    "类型",
    "住所",
    "法定代表人",
    "注册资本",
    "成立日期",
    "营业期限",
    "经营范围",
    "营业场所",
    "经营场所",
    "主要经营场所",
    "负责人",
    "执行事务合伙人",
    "投资人",
    "经营者",
    "组成形式",
    "注册日期",
    "出资额",
    "合伙期限",
    "登记机关",
    "编号",
)
_LABEL_CHARS = frozenset("".join((NAME_LABEL, *OTHER_LABELS)))

# Company-type suffixes a 名称 ends with, longest first (full-width brackets).
NAME_SUFFIXES = (
    "合伙企业（有限合伙）",
    "合伙企业（普通合伙）",
    "（特殊普通合伙）",
    "（有限合伙）",
    "（普通合伙）",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "分公司",
    "公司",
    "合伙企业",
    "事务所",
    "研究院",
    "研究所",
    "合作社",
    "工作室",
    "分店",
    "商行",
    "经营部",
    "门市部",
    "个人独资企业",
)
# A value that starts like this is the 类型 field, not a name.
_TYPE_PREFIXES = (
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "其他有限",
    "其他股份",
    "个人独资",
    "一人有限",
    "普通合伙",
    "有限合伙",
    "特殊普通合伙",
    "合伙企业",
    "外商",
    "台港澳",
    "国有",
    "集体",
    "全民所有制",
    "非上市",
    "上市",
    "个体工商户",
)
_NOT_IN_NAMES = re.compile(r"[、；;，,。：:]|自然人|投资或控股|独资\)|http|www", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Anything but CJK, ASCII letters/digits and brackets at either end of a name is OCR debris.
_EDGE_JUNK = re.compile(r"^[^\u4e00-\u9fffA-Za-z0-9（]+|[^\u4e00-\u9fffA-Za-z0-9）]+$")

# Letters the GB 32100 alphabet never uses, read by OCR instead of digits / U.
_CODE_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})
_CODE_RUN = re.compile(f"[{CREDIT_CODE_ALPHABET}]+")
_CODE_LEN = 18
_REGISTRAR_CHARS = "123456789AGJNQY"

# What OCR mistakes a code character for, inside the GB 32100 alphabet (the letters outside it,
# S, I, Z, V, O, are folded to 5, 1, 2, U, 0 before anything else: 5↔S, 1↔I, 2↔Z, U↔V).
CODE_CONFUSABLE = {
    "8": "B", "B": "8",
    "0": "DQ", "D": "0Q", "Q": "0D",
    "1": "T", "T": "1",
    "6": "G", "G": "6",
}
LOW_CHAR_CONFIDENCE = 0.9  # a code character scored below this may be a confusion
MAX_CORRECTED_POSITIONS = 6  # characters tried, the least confident first
MAX_CORRECTIONS = 2  # characters changed at once in one candidate
NAME_CHAR_CONFIDENT = 0.85  # a name character scored below this is highlighted


@dataclass(frozen=True)
class LicenceFields:
    """What :func:`parse_licence` found; ``None`` when a field was not found.

    ``credit_code_valid``: the code was read as printed and passes every check.
    ``code_corrected_from``: the code as read, when ``credit_code`` is the one code within the
    OCR confusions that passes every check (``credit_code_valid`` is then False: a correction is
    for a person to confirm). ``name_uncertain``: positions in ``name`` of the characters read
    with a low score.
    """

    name: str | None
    credit_code: str | None
    credit_code_valid: bool
    name_from_label: bool = field(default=False, compare=False)
    code_corrected_from: str | None = field(default=None, compare=False)
    name_uncertain: tuple[int, ...] = field(default=(), compare=False)

    @property
    def complete(self) -> bool:
        """A labelled name and a code passing the checks: nothing more to look for."""
        return bool(self.name and self.name_from_label and self.credit_code_valid)


@dataclass(frozen=True)
class _Box:
    """One OCR line: its text and its quadrilateral (TL, TR, BR, BL) plus the bounding box."""

    index: int
    text: str
    compact: str
    quad: tuple[Point, Point, Point, Point]
    confs: tuple[float, ...] = ()  # one per character of ``compact``

    @property
    def x0(self) -> float:
        return min(p[0] for p in self.quad)

    @property
    def x1(self) -> float:
        return max(p[0] for p in self.quad)

    @property
    def y0(self) -> float:
        return min(p[1] for p in self.quad)

    @property
    def y1(self) -> float:
        return max(p[1] for p in self.quad)

    @property
    def h(self) -> float:
        """Text height: the mean length of the left and right edges."""
        tl, tr, br, bl = self.quad
        return max((_dist(tl, bl) + _dist(tr, br)) / 2, 1.0)

    @property
    def cx(self) -> float:
        return sum(p[0] for p in self.quad) / 4

    @property
    def cy(self) -> float:
        return sum(p[1] for p in self.quad) / 4

    @property
    def left_mid(self) -> float:
        return (self.quad[0][1] + self.quad[3][1]) / 2

    @property
    def right_mid(self) -> float:
        return (self.quad[1][1] + self.quad[2][1]) / 2

    def bottom_at(self, x: float) -> float:
        """The y of the bottom edge at ``x`` (the line may be tilted)."""
        (x_l, y_l), (x_r, y_r) = self.quad[3], self.quad[2]
        if abs(x_r - x_l) < 1:
            return max(y_l, y_r)
        t = min(max((x - x_l) / (x_r - x_l), 0.0), 1.0)
        return y_l + t * (y_r - y_l)


def _dist(a: Point, b: Point) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


# --- public API ------------------------------------------------------------


def parse_licence(lines: Iterable[OcrLine]) -> LicenceFields:
    """Find the 名称 and the 统一社会信用代码 in OCR lines."""
    boxes = to_boxes(lines)
    code, valid, corrected_from = read_credit_code(boxes)
    name = best_name(boxes)
    if name is None:
        return LicenceFields(None, code, valid, code_corrected_from=corrected_from)
    return LicenceFields(name.value, code, valid, name_from_label=name.from_label,
                         code_corrected_from=corrected_from, name_uncertain=name.uncertain)


def lines_to_read(known: Sequence[OcrLine], unread: Sequence[Sequence[Point]]) -> list[int]:
    """Indices of the ``unread`` boxes (detected, not recognised yet) that may hold a value.

    ``known`` are the lines recognised so far (e.g. the short ones, where labels are): the
    boxes right of a 名称 or credit-code label, under them, or where a name wraps.
    """
    placeholder = "\u25a1"  # never a label, never a value
    lines: list[OcrLine] = [*known, *((placeholder, quad, 0.0) for quad in unread)]
    boxes = to_boxes(lines)
    wanted: set[int] = set()
    for label, glued in _name_labels(boxes):
        is_glued = bool(_clean_value(glued))
        value = [label] if is_glued else _value_boxes_right_of(boxes, label)
        wanted.update(b.index for b in value)
        if value:
            wanted.update(b.index for b in _wrapped_lines(boxes, label, value[0], is_glued))
    for label in _code_labels(boxes):
        wanted.update(b.index for b in _row_chain(boxes, label, 10.0, stop_at_label=False)[:3])
        wanted.update(b.index for b in _below(boxes, label))
    return sorted(i - len(known) for i in wanted if i >= len(known))


def to_boxes(lines: Iterable[OcrLine]) -> list[_Box]:
    """Axis-aligned boxes with a compact (NFKC, no spaces) text, in reading order."""
    boxes = []
    for i, (text, box, conf) in enumerate(lines):
        points = [(float(p[0]), float(p[1])) for p in box]
        compact, confs = compact_with_confidences(text, conf)
        if compact and len(points) == 4:
            quad = (points[0], points[1], points[2], points[3])
            boxes.append(_Box(i, text.strip(), compact, quad, confs))
    boxes.sort(key=lambda b: (b.y0, b.x0))
    return boxes


def compact_with_confidences(text: str, conf: Confidence) -> tuple[str, tuple[float, ...]]:
    """:func:`compact_text` of ``text`` and a score per character of it.

    ``conf`` is the line's score (every character gets it) or one score per character of
    ``text`` (a sequence of another length counts as its mean for every character).
    """
    text = text or ""
    if isinstance(conf, int | float):
        per_char = [float(conf)] * len(text)
    else:
        scores = [float(c) for c in conf]
        mean = sum(scores) / len(scores) if scores else 0.0
        per_char = scores if len(scores) == len(text) else [mean] * len(text)
    chars: list[str] = []
    confs: list[float] = []
    for char, score in zip(text, per_char, strict=True):
        folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", char))
        chars.append(folded)
        confs.extend([score] * len(folded))
    compact = "".join(chars)
    if compact != compact_text(text):  # NFKC across characters (rare): line score for all
        compact = compact_text(text)
        confs = [min(per_char, default=0.0)] * len(compact)
    return compact, tuple(confs)


def compact_text(text: str) -> str:
    """NFKC-fold ``text`` (full-width ASCII to ASCII) and drop all whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def normalise_name(text: str) -> str:
    """Spaces removed, brackets in the full-width form printed on licences, no stray colons."""
    value = _EDGE_JUNK.sub("", normalise_brackets(compact_text(text)))
    if value.count("（") == value.count("）") + 1 and value.rfind("（") > value.rfind("）"):
        value += "）"  # OCR often drops the closing bracket at the end of a line
    return value


def has_label(boxes: Sequence[_Box]) -> bool:
    """Whether the 名称 or the 统一社会信用代码 label is among ``boxes``."""
    return bool(_name_labels(boxes) or _code_labels(boxes))


# --- 名称 ------------------------------------------------------------------


@dataclass(frozen=True)
class NameReading:
    """A candidate 名称: its value, whether a label introduced it, a score per character."""

    value: str
    from_label: bool
    confs: tuple[float, ...]

    @property
    def uncertain(self) -> tuple[int, ...]:
        """Positions of the characters read with a low score (brackets aside: they are
        normalised to the printed form whatever was read)."""
        return tuple(i for i, c in enumerate(self.confs)
                     if c < NAME_CHAR_CONFIDENT and self.value[i] not in "（）")

    @property
    def confident(self) -> bool:
        return not self.uncertain

    @property
    def has_suffix(self) -> bool:
        return self.value.endswith(NAME_SUFFIXES)


def extract_name(boxes: Sequence[_Box]) -> str | None:
    """The best 名称 candidate's value (see :func:`best_name`)."""
    name = best_name(boxes)
    return name.value if name else None


def labelled_name(boxes: Sequence[_Box]) -> str | None:
    """The value a 名称 label introduces (same box, right of it, wrapped under it)."""
    names = _labelled_names(boxes)
    return names[0].value if names else None


def best_name(boxes: Sequence[_Box]) -> NameReading | None:
    """The 名称: the values 名称 labels introduce and the company-like lines, preferring one
    that ends in a company-form suffix and was read with confidence, then a labelled one,
    then one with a suffix, then the first labelled one (nearest the label for the lines)."""
    candidates = [*_labelled_names(boxes), *_company_lines(boxes, _name_anchor(boxes))]
    if not candidates:
        return None

    def rank(pair: tuple[int, NameReading]) -> tuple[bool, bool, bool, int]:
        order, name = pair
        return (name.has_suffix and name.confident, name.from_label, name.has_suffix, -order)

    return max(enumerate(candidates), key=rank)[1]


def _labelled_names(boxes: Sequence[_Box]) -> list[NameReading]:
    found = []
    for label_box, glued in _name_labels(boxes):
        value = _name_after_label(boxes, label_box, glued)
        if value and _looks_like_name_value(value[0]):
            found.append(NameReading(value[0], True, _value_confidences(value[0], value[1])))
    return found


def _value_confidences(value: str, sources: Sequence[_Box]) -> tuple[float, ...]:
    """A score per character of ``value`` (cleaned from the ``sources`` texts): the score of
    the source character it came from; a character with no source (an added bracket) gets
    the lowest score of the sources."""
    text = normalise_brackets("".join(b.compact for b in sources))
    confs = [c for b in sources for c in b.confs]
    floor = min(confs, default=0.0)
    out = [floor] * len(value)
    for block in SequenceMatcher(None, value, text, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            out[block.a + k] = confs[block.b + k] if block.b + k < len(confs) else floor
    return tuple(out)


def normalise_brackets(text: str) -> str:
    """ASCII brackets as the full-width ones printed on licences."""
    return text.replace("(", "（").replace(")", "）")


def _name_anchor(boxes: Sequence[_Box]) -> _Box | None:
    labels = _name_labels(boxes)
    return labels[0][0] if labels else None


def _name_labels(boxes: Sequence[_Box]) -> list[tuple[_Box, str]]:
    """``(box ending the label, value glued after it)`` for each 名称 label found."""
    found = []
    for box in boxes:
        text = box.compact.lstrip(":：")
        if text.startswith(NAME_LABEL):
            found.append((box, text[len(NAME_LABEL):]))
        elif text.rstrip(":：") == "称":
            found.append((box, ""))
        elif text.startswith("称") and len(_CJK.findall(text)) >= 5:
            found.append((box, text[1:]))  # 名 lost or apart, 称 glued to the value
        elif text == "名":
            right = _right_neighbours(boxes, box, max_gap=6.0)
            if right and right[0].compact.startswith("称"):
                found.append((right[0], right[0].compact[1:]))
            else:
                found.append((box, ""))
    return found


def _name_after_label(
    boxes: Sequence[_Box], label: _Box, glued: str
) -> tuple[str, list[_Box]] | None:
    """The value glued to the label or right of it, plus a wrapped second line, and the boxes
    it was read from."""
    if _clean_value(glued):
        raw, first, sources = glued, label, [label]
    else:
        value_boxes = _value_boxes_right_of(boxes, label)
        if not value_boxes:
            return None
        raw, first = "".join(b.compact for b in value_boxes), value_boxes[0]
        sources = list(value_boxes)
    for box in _wrapped_lines(boxes, label, first, glued=first is label):
        joined = _clean_value(raw + box.compact)
        if joined.endswith(NAME_SUFFIXES) and not box.compact.startswith(_TYPE_PREFIXES):
            return joined, [*sources, box]
    return _clean_value(raw), sources


def _value_boxes_right_of(boxes: Sequence[_Box], label: _Box) -> list[_Box]:
    """The nearest box right of ``label`` and the boxes chained to it on the row."""
    return _row_chain(boxes, label, first_gap=8.0, stop_at_label=True)


def _wrapped_lines(boxes: Sequence[_Box], label: _Box, first: _Box, glued: bool) -> list[_Box]:
    """Lines just under the value, starting where it starts, on a row without a label."""
    h = first.h
    lo, hi = (first.x0 - h, first.x0 + 8 * h) if glued else (first.x0 - h, first.x0 + h)
    found = []
    for b in boxes:
        gap = b.quad[0][1] - first.bottom_at(b.x0)
        if (
            -0.5 * h <= gap <= 1.2 * h
            and lo <= b.x0 <= hi
            and b.index not in (label.index, first.index)
            and not _is_label(b)
            and not _row_has_label_left(boxes, b)
        ):
            found.append(b)
    return found


def _clean_value(text: str) -> str:
    """Cut a value at the next field label glued to it, strip the 名称 label's pieces glued
    before it, then normalise it."""
    value = strip_label_fragments(compact_text(text))
    for label in OTHER_LABELS:
        cut = value.find(label, 2)
        if cut > 0:
            value = value[:cut]
    return normalise_name(value)


# The 名称 label or its pieces glued before a value: 名称, 称, 名: (a lone 名 stays: 名创优品…),
# in brackets or not, with colons.
_LABEL_FRAGMENT = re.compile(
    r"^(?:[【\[〔「《(（]?(?:名称|称)[】\]〕」》)）]?[:：]?|名[:：]|[:：]+)+"
)


def strip_label_fragments(text: str) -> str:
    """``text`` without the 名称 label pieces glued at its start (``称东莞…`` → ``东莞…``)."""
    return _LABEL_FRAGMENT.sub("", compact_text(text))


def _looks_like_name_value(value: str) -> bool:
    return len(_CJK.findall(value)) >= 2 and not value.startswith(_TYPE_PREFIXES)


def _company_lines(boxes: Sequence[_Box], anchor: _Box | None) -> list[NameReading]:
    """The lines that look like a company name, nearest the 名称 label first (else top first)."""
    lines = [b for b in boxes if _is_company_line(boxes, b)]
    if anchor is None:
        lines.sort(key=lambda b: (b.y0, b.x0))
    else:
        lines.sort(key=lambda b: _distance(b, anchor))
    found = []
    for box in lines:
        value = _clean_value(box.compact)
        found.append(NameReading(value, False, _value_confidences(value, [box])))
    return found


def _is_company_line(boxes: Sequence[_Box], box: _Box) -> bool:
    value = normalise_name(strip_label_fragments(box.compact))
    suffix = next((s for s in NAME_SUFFIXES if value.endswith(s)), None)
    if suffix is None or _NOT_IN_NAMES.search(box.compact):
        return False
    core = value[: -len(suffix)]
    if len(_CJK.findall(core)) < 2 or core.startswith(_TYPE_PREFIXES):
        return False
    if value.startswith((NAME_LABEL, *OTHER_LABELS)) or value.startswith(_TYPE_PREFIXES):
        return False
    if value[0] in _LABEL_CHARS and value[1:].startswith(_TYPE_PREFIXES):
        return False  # 型有限合伙企业: the end of the 类型 label glued to its value
    return not _row_has_label_left(boxes, box, ignore_name_label=True)


# --- 统一社会信用代码 ----------------------------------------------------------


def extract_credit_code(boxes: Sequence[_Box]) -> tuple[str | None, bool]:
    """``(code, True)`` for a code read as printed and passing every check; else the best
    guess (or its correction, see :func:`read_credit_code`) and False, or ``(None, False)``."""
    code, valid, _read = read_credit_code(boxes)
    return code, valid


def read_credit_code(boxes: Sequence[_Box]) -> tuple[str | None, bool, str | None]:
    """``(code, valid, corrected_from)``.

    A code read as printed that passes every check wins (``valid``). Else the best guess; when
    it fails the checks and exactly one code within the OCR confusions of its least confident
    characters passes them all (:func:`correct_code`), that code, with the guess as
    ``corrected_from``.
    """
    sources = list(_code_sources(boxes))
    for text, _confs, anchored in sources:
        code = _valid_code_in(text, anchored)
        if code:
            return code, True, None
    for text, confs, anchored in sources:
        guess = _code_guess(text, confs, anchored)
        if guess:
            code, code_confs = guess
            corrected = correct_code(code, code_confs)
            return (corrected, False, code) if corrected else (code, False, None)
    return None, False, None


def correct_code(read: str, confs: Sequence[float] | None = None) -> str | None:
    """The one code within the OCR confusions of ``read`` that passes every check, or None.

    ``read`` is an 18-character code (after folding) failing the checks. Characters 3–8 are
    digits: a confusable letter there is read as its digit. Then up to
    :data:`MAX_CORRECTIONS` characters are swapped at once among the
    :data:`MAX_CORRECTED_POSITIONS` confusable ones scoring lowest (those under
    :data:`LOW_CHAR_CONFIDENCE` when ``confs`` says which). None when no candidate or more
    than one passes: a guess between two codes is no correction.
    """
    if len(read) != _CODE_LEN or credit_code_valid(read):
        return None
    chars = list(read)
    for i in range(2, 8):
        if not chars[i].isdigit():
            digit = next((c for c in CODE_CONFUSABLE.get(chars[i], "") if c.isdigit()), None)
            if digit is None:
                return None
            chars[i] = digit
    scores = list(confs) if confs is not None and len(confs) == _CODE_LEN else [1.0] * _CODE_LEN
    alternatives = _alternatives_at(chars)
    low = [i for i in alternatives if scores[i] < LOW_CHAR_CONFIDENCE]
    tried = sorted(low or alternatives, key=lambda i: scores[i])[:MAX_CORRECTED_POSITIONS]
    passing: set[str] = set()
    base = "".join(chars)
    if base != read and credit_code_valid(base):
        passing.add(base)
    for count in range(1, MAX_CORRECTIONS + 1):
        for positions in combinations(tried, count):
            for swaps in product(*(alternatives[i] for i in positions)):
                candidate = chars.copy()
                for i, c in zip(positions, swaps, strict=True):
                    candidate[i] = c
                code = "".join(candidate)
                if credit_code_valid(code):
                    passing.add(code)
    return passing.pop() if len(passing) == 1 else None


def _alternatives_at(chars: Sequence[str]) -> dict[int, str]:
    """For each position, the confusable characters that may stand there."""
    found = {}
    for i, char in enumerate(chars):
        options = CODE_CONFUSABLE.get(char, "")
        if i == 0:
            options = "".join(c for c in options if c in _REGISTRAR_CHARS)
        elif 2 <= i < 8:
            options = ""  # digits already; no digit is confused with another digit
        if options:
            found[i] = options
    return found


def code_candidates(text: str) -> list[str]:
    """Runs over the GB 32100 alphabet in ``text`` after folding OCR confusions."""
    return [run for run, _start in _code_runs(text)]


def _code_runs(text: str) -> list[tuple[str, int]]:
    """``(run, start)``: the alphabet runs of the folded ``text`` and where they start."""
    folded = fold_code_text(text)
    return [(m.group(), m.start()) for m in _CODE_RUN.finditer(folded)]


def fold_code_text(text: str) -> str:
    """Upper case, OCR letters outside the alphabet folded (O→0, I→1, Z→2, S→5, V→U), one
    character for each character of the compact ``text``."""
    compact = compact_text(text)
    folded = "".join(c.upper() if len(c.upper()) == 1 else c for c in compact)
    return folded.translate(_CODE_CONFUSIONS)


def _code_sources(boxes: Sequence[_Box]) -> Iterable[tuple[str, tuple[float, ...], bool]]:
    """Texts to search with their character scores, best first: glued to the label, right of
    it, below it, elsewhere."""
    labels = _code_labels(boxes)
    used: set[int] = set()
    for label in labels:
        used.add(label.index)
        after = _after_code_label(label.compact)
        yield after, label.confs[len(label.compact) - len(after):], True
        right = _row_chain(boxes, label, first_gap=10.0, stop_at_label=False)[:3]
        used.update(b.index for b in right)
        yield "".join(b.compact for b in right), tuple(c for b in right for c in b.confs), True
        for box in _below(boxes, label):
            used.add(box.index)
            yield box.compact, box.confs, True
    for box in boxes:
        if box.index not in used and not _is_serial_number(boxes, box):
            yield box.compact, box.confs, False


def _valid_code_in(text: str, anchored: bool) -> str | None:
    found = []
    for run in code_candidates(text):
        if not anchored and len(run) != _CODE_LEN:
            continue
        windows = {run[i : i + _CODE_LEN] for i in range(len(run) - _CODE_LEN + 1)}
        found += [w for w in windows if credit_code_valid(w)]
    return found[0] if len(set(found)) == 1 else None


def _code_guess(
    text: str, confs: Sequence[float], anchored: bool
) -> tuple[str, tuple[float, ...]] | None:
    runs = [(r, start) for r, start in _code_runs(text) if len(r) >= _CODE_LEN - 3]
    if not anchored:
        runs = [(r, start) for r, start in runs if len(r) == _CODE_LEN and _plausible_code(r)]
    if not runs:
        return None
    best, start = min(runs, key=lambda pair: abs(len(pair[0]) - _CODE_LEN))
    scores = tuple(confs[start : start + _CODE_LEN]) if len(confs) == len(text) else ()
    return best[:_CODE_LEN], scores


def _plausible_code(code: str) -> bool:
    """Registrar character and a 6-character run that may be a region code."""
    return code[0] in _REGISTRAR_CHARS and all(
        c.isdigit() or any(d.isdigit() for d in CODE_CONFUSABLE.get(c, "")) for c in code[2:8]
    )


def _code_labels(boxes: Sequence[_Box]) -> list[_Box]:
    return [b for b in boxes if _is_code_label(b)]


def _is_code_label(box: _Box) -> bool:
    return any(part in box.compact for part in _CODE_LABEL_PARTS)


def _after_code_label(text: str) -> str:
    for part in ("代码", *_CODE_LABEL_PARTS):
        pos = text.find(part)
        if pos >= 0:
            return text[pos + len(part):]
    return ""


def _below(boxes: Sequence[_Box], label: _Box) -> list[_Box]:
    """Boxes under ``label`` within a few lines, overlapping its columns, nearest first."""
    near = [
        b
        for b in boxes
        if label.y1 - 0.3 * label.h <= b.y0 <= label.y1 + 3.5 * label.h
        and b.x0 < label.x1 + label.h
        and b.x1 > label.x0 - label.h
        and b.index != label.index
    ]
    return sorted(near, key=lambda b: b.y0)


def _is_serial_number(boxes: Sequence[_Box], box: _Box) -> bool:
    """The licence's 编号 (a long digit string), glued to its label or right of it."""
    if box.compact.startswith("编号"):
        return True
    left = _left_neighbour(boxes, box)
    return left is not None and left.compact.endswith("编号")


# --- geometry and labels ------------------------------------------------------


def _same_row(a: _Box, b: _Box) -> bool:
    """Side by side on one text row: the facing edges are level (tilt-tolerant)."""
    left, right = (a, b) if a.cx <= b.cx else (b, a)
    return abs(left.right_mid - right.left_mid) <= 0.6 * min(a.h, b.h)


def _right_neighbours(boxes: Sequence[_Box], box: _Box, max_gap: float) -> list[_Box]:
    """Boxes on the same row to the right of ``box`` (at most ``max_gap`` heights away)."""
    right = [
        b
        for b in boxes
        if b.index != box.index
        and _same_row(b, box)
        and b.x0 >= box.x1 - 0.5 * box.h
        and b.x0 - box.x1 <= max_gap * box.h
    ]
    return sorted(right, key=lambda b: b.x0)


def _row_chain(
    boxes: Sequence[_Box], start: _Box, first_gap: float, stop_at_label: bool
) -> list[_Box]:
    """The nearest box right of ``start``, then each box close after the previous one."""
    chain: list[_Box] = []
    right = _right_neighbours(boxes, start, max_gap=first_gap)
    while right and not (stop_at_label and _is_label(right[0])) and right[0] not in chain:
        chain.append(right[0])
        right = _right_neighbours(boxes, right[0], max_gap=1.5)
    return chain


def _left_neighbour(boxes: Sequence[_Box], box: _Box) -> _Box | None:
    left = [b for b in boxes if b.index != box.index and _same_row(b, box) and b.x1 <= box.x0 + 2]
    return max(left, key=lambda b: b.x1) if left else None


def _row_has_label_left(boxes: Sequence[_Box], box: _Box, ignore_name_label: bool = False) -> bool:
    left = _left_neighbour(boxes, box)
    if left is None or not _is_label(left):
        return False
    return not (ignore_name_label and _is_name_label_piece(left))


def _is_label(box: _Box) -> bool:
    """A field label (or a single-character piece of one), not a value."""
    text = box.compact.strip(":：")
    if len(text) <= 2 and text and all(c in _LABEL_CHARS for c in text):
        return True
    if text.startswith((NAME_LABEL, *OTHER_LABELS)) and len(text) <= 8:
        return True
    return _is_code_label(box)


def _is_name_label_piece(box: _Box) -> bool:
    text = box.compact.strip(":：")
    return text in ("名", "称", NAME_LABEL)


def _distance(a: _Box, b: _Box) -> float:
    return ((a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2) ** 0.5
