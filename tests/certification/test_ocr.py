"""ocr.py: loading uploads, the engine cache, the easyocr adapter, second looks and their vote,
the fixture sets (clean, hard, the tuning and held-back halves), and the real default engine."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from talentadmin.certification import ocr
from talentadmin.certification.ocr import (
    EASYOCR_WEIGHTS,
    SECOND_LOOK_DET_LIMIT,
    SECOND_LOOKS,
    Ballot,
    EasyOcrEngine,
    EngineUnavailable,
    RapidOcrEngine,
    UnreadableUpload,
    get_engine,
    load_image,
    look_contrast,
    look_page,
    ocr_files,
    page_quad,
    page_rotation,
    prepare_image,
    read_licence,
)
from talentadmin.core.creditcode import credit_code_problems

from .. import licence_gen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEV = FIXTURES / "licences"
HARD = FIXTURES / "licences_hard"
DEV_TRUTH = json.loads((DEV / "truth.json").read_text(encoding="utf-8"))
HARD_TRUTH = json.loads((HARD / "truth.json").read_text(encoding="utf-8"))
TUNE = FIXTURES / "licences_tune"
HELDBACK = FIXTURES / "licences_heldback"
TUNE_TRUTH = json.loads((TUNE / "truth.json").read_text(encoding="utf-8"))
HELDBACK_TRUTH = json.loads((HELDBACK / "truth.json").read_text(encoding="utf-8"))
# Cases the default engine is allowed to miss (never with a wrong code that passes the check).
HARD_CODE_MISSES: set[str] = set()

CODE = "91110105MA01R8DQ2M"
OTHER_CODE = "91310115MA1FL3K293"  # also passes every check
NAME = "北京朝阳云帆智联科技有限公司"


@pytest.fixture(autouse=True)
def _clean_database():
    """No app and no database here: overrides the suite-wide autouse fixture of that name."""
    yield


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def box(x: float, y: float, w: float, h: float = 30):
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


# --- loading uploads ------------------------------------------------------------


def test_jpeg_exif_orientation_is_applied():
    image = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = load_image(encoded(image, "JPEG", exif=exif.tobytes()))
    assert loaded.size == (20, 60)
    assert loaded.mode == "RGB"


def test_png_with_transparency_is_flattened_on_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    loaded = load_image(encoded(image, "PNG"))
    assert loaded.mode == "RGB"
    assert loaded.getpixel((5, 5)) == (255, 255, 255)


def test_pdf_first_page_is_rendered(tmp_path):
    page = Image.new("RGB", (600, 400), "white")
    ImageDraw.Draw(page).rectangle([100, 100, 200, 200], fill="black")
    second = Image.new("RGB", (400, 600), "white")
    pdf = encoded(page, "PDF", resolution=72, save_all=True, append_images=[second])
    loaded = load_image(pdf)
    assert loaded.mode == "RGB"
    assert max(loaded.size) == ocr.PDF_RENDER_SIDE
    assert loaded.width > loaded.height  # the first page, not the second
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf)
    assert load_image(path).size == loaded.size


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image at all", "format"),
        (encoded(Image.new("RGB", (8, 8)), "GIF"), "format"),
        (encoded(Image.new("RGB", (64, 64), "red"), "JPEG")[:200], "corrupt"),
        (b"%PDF-1.4 broken", "corrupt"),
    ],
)
def test_unreadable_uploads(data, reason):
    with pytest.raises(UnreadableUpload) as caught:
        load_image(data)
    assert caught.value.reason == reason


def test_decompression_bomb_guard_is_on(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnreadableUpload) as caught:
        load_image(encoded(Image.new("RGB", (100, 100)), "PNG"))
    assert caught.value.reason == "too_large"


def test_prepare_image_downscales_but_never_upscales():
    assert prepare_image(Image.new("RGB", (3200, 1600)), 1600).size == (1600, 800)
    assert prepare_image(Image.new("L", (900, 600)), 1600).size == (900, 600)
    assert prepare_image(Image.new("L", (900, 600)), 1600).mode == "RGB"


# --- engine cache -----------------------------------------------------------------


class SlowEngine:
    built = 0
    name = "slow"
    handles_rotation = True

    def __init__(self, **options):
        time.sleep(0.05)
        type(self).built += 1
        self.options = options

    def readtext(self, image):
        return []


@pytest.fixture
def slow_engine(monkeypatch):
    monkeypatch.setitem(ocr.ENGINES, "slow", SlowEngine)
    monkeypatch.setattr(ocr, "_engines", {})
    SlowEngine.built = 0
    return SlowEngine


def test_engine_is_built_once_per_options_even_from_many_threads(slow_engine):
    found = []
    threads = [threading.Thread(target=lambda: found.append(get_engine("slow", x=1)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow_engine.built == 1
    assert all(engine is found[0] for engine in found)
    assert get_engine("slow", x=2) is not found[0]
    assert slow_engine.built == 2


def test_unknown_engine_name():
    with pytest.raises(ValueError, match="rapidocr, easyocr"):
        get_engine("tesseract")


def test_rapidocr_names_missing_model_files(tmp_path):
    with pytest.raises(EngineUnavailable) as caught:
        RapidOcrEngine(model_dir=tmp_path)
    for file in RapidOcrEngine.MODEL_FILES.values():
        assert file in str(caught.value)


def test_page_rotation_votes():
    wide, tall = box(0, 0, 300, 30), box(0, 0, 30, 300)
    square = box(0, 0, 30, 30)
    assert page_rotation([wide, wide], [("0", 0.99), ("0", 0.99)]) == 0
    assert page_rotation([wide, wide, square], [("180", 0.99), ("180", 0.95), ("0", 1.0)]) == 180
    assert page_rotation([tall, tall], [("0", 0.99), ("0", 0.99)]) == 90
    assert page_rotation([tall, tall], [("180", 0.99), ("180", 0.99)]) == 270
    assert page_rotation([wide, wide], [("180", 0.5), ("180", 0.6)]) == 0  # not confident
    assert page_rotation([wide, tall], [("0", 0.99), ("180", 0.99)]) == 0  # no majority
    assert page_rotation([], []) == 0


# --- easyocr adapter -----------------------------------------------------------------


class FakeReader:
    """Stands in for easyocr.Reader: answers only when the image is in landscape."""

    def __init__(self):
        self.calls = []

    def readtext(self, pixels, detail=1, paragraph=False):
        self.calls.append((pixels.shape, detail, paragraph))
        height, width = pixels.shape[:2]
        if width < height:
            return []
        return [
            ([[130, 160], [370, 160], [370, 190], [130, 190]], "统一社会信用代码", 0.98),
            ([[420, 160], [750, 160], [750, 190], [420, 190]], CODE, 0.97),
            ([[170, 520], [320, 520], [320, 550], [170, 550]], "名称", 0.99),
            ([[420, 520], [840, 520], [840, 550], [420, 550]], "北京朝阳云帆智联科技有限公司", 0.95),
        ]


def test_easyocr_adapter_with_a_fake_reader():
    reader = FakeReader()
    engine = EasyOcrEngine(reader=reader, max_side=1000)
    reading = read_licence(Image.new("RGB", (2000, 1400), "white"), engine)
    assert (reading.name, reading.credit_code, reading.credit_code_valid) == (
        "北京朝阳云帆智联科技有限公司", CODE, True)
    assert reading.engine == "easyocr"
    assert reader.calls == [((700, 1000, 3), 1, False)]
    text, points, conf = reading.lines[1]
    assert (text, points[0], conf) == (CODE, (420.0, 160.0), 0.97)


def test_easyocr_page_without_labels_is_turned_until_one_shows():
    reader = FakeReader()
    engine = EasyOcrEngine(reader=reader)
    reading = read_licence(Image.new("RGB", (1000, 1400), "white"), engine)
    assert reading.credit_code == CODE
    assert [call[0][:2] for call in reader.calls] == [(1400, 1000), (1400, 1000), (1000, 1400)]


def test_easyocr_names_the_missing_weight_files(tmp_path):
    with pytest.raises(EngineUnavailable) as caught:
        EasyOcrEngine(model_dir=tmp_path)
    assert "craft_mlt_25k.pth" in str(caught.value)
    assert "zh_sim_g2.pth" in str(caught.value)
    (tmp_path / "craft_mlt_25k.pth").write_bytes(b"x")
    with pytest.raises(EngineUnavailable, match="zh_sim_g2.pth") as caught:
        EasyOcrEngine(model_dir=tmp_path)
    assert "craft_mlt_25k" not in str(caught.value)


def test_easyocr_without_a_model_dir(monkeypatch):
    monkeypatch.delenv(ocr.EASYOCR_MODEL_DIR_ENV, raising=False)
    with pytest.raises(EngineUnavailable, match=ocr.EASYOCR_MODEL_DIR_ENV):
        get_engine("easyocr", model_dir=None)


def test_easyocr_not_installed(tmp_path, monkeypatch):
    for file in EASYOCR_WEIGHTS:
        (tmp_path / file).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "easyocr", None)
    with pytest.raises(EngineUnavailable, match="not installed"):
        EasyOcrEngine(model_dir=tmp_path)


def test_easyocr_reader_is_built_offline_from_the_model_dir(tmp_path, monkeypatch):
    for file in EASYOCR_WEIGHTS:
        (tmp_path / file).write_bytes(b"x")
    built = {}

    def reader(langs, **kwargs):
        built.update(kwargs, langs=langs)
        return FakeReader()

    monkeypatch.setitem(sys.modules, "easyocr", types.SimpleNamespace(Reader=reader))
    monkeypatch.setenv(ocr.EASYOCR_MODEL_DIR_ENV, str(tmp_path))
    EasyOcrEngine()
    assert built["langs"] == ["ch_sim", "en"]
    assert built["download_enabled"] is False
    assert built["model_storage_directory"] == str(tmp_path)
    assert built["gpu"] is False


# --- the fixture sets ----------------------------------------------------------------


def test_broader_set_is_42_cases_split_in_two_halves():
    cases = licence_gen.broad_cases()
    assert len(cases) >= 40
    assert {c.file for c in cases if c.split == "tune"} == set(TUNE_TRUTH)
    assert {c.file for c in cases if c.split == "heldback"} == set(HELDBACK_TRUTH)
    assert abs(len(TUNE_TRUTH) - len(HELDBACK_TRUTH)) <= 1
    assert all(v["split"] == "tune" for v in TUNE_TRUTH.values())
    assert all(v["split"] == "heldback" for v in HELDBACK_TRUTH.values())
    # every category of damage is in both halves
    for _category, _recipes, note in licence_gen.CATEGORIES:
        assert any(v["note"] == note for v in TUNE_TRUTH.values()), note
        assert any(v["note"] == note for v in HELDBACK_TRUTH.values()), note
    names = [c.licence.name for c in cases]
    assert len(set(names)) == len(names)
    assert len({c.style for c in cases}) > 1 and len({c.layout for c in cases}) == 3
    assert (FIXTURES / "licences_hard").is_dir() and len(HARD_TRUTH) == 9


def test_every_fixture_code_passes_every_check():
    for truth in (DEV_TRUTH, HARD_TRUTH, TUNE_TRUTH, HELDBACK_TRUTH):
        for file, fields in truth.items():
            assert credit_code_problems(fields["credit_code"]) == [], file


def test_generated_codes_carry_both_check_characters():
    import random

    assert licence_gen.org_code_check_char("MA01R8DQ") == "2"  # 91110105MA01R8DQ2M
    rng = random.Random(1)
    for numeric in (False, True):
        for _ in range(50):
            code = licence_gen.make_credit_code(rng, "441900", "93", numeric_org=numeric)
            assert credit_code_problems(code) == []
            assert code[8:16].isdigit() == numeric


def test_fixture_files_are_small():
    total = sum(f.stat().st_size for d in (HARD, TUNE, HELDBACK) for f in d.glob("*.jpg"))
    assert total < 10 * 2**20


# --- second looks and their vote ----------------------------------------------------------


def licence_lines(name: str | None, code: str | None, name_conf=0.99) -> list:
    """OCR lines of a landscape licence: the code label and code, the 名称 label and value."""
    lines = [("统一社会信用代码", box(130, 160, 240), 0.98)]
    if code:
        lines.append((code, box(420, 160, 330), 0.97))
    lines.append(("名称", box(170, 520, 150), 0.99))
    if name:
        lines.append((name, box(420, 520, 420), name_conf))
    return lines


def uncertain(name: str, at: int) -> tuple[float, ...]:
    return tuple(0.4 if i == at else 0.99 for i in range(len(name)))


def test_ballot_two_valid_codes_that_differ_make_neither_valid():
    ballot = Ballot()
    ballot.add("first", licence_lines(NAME, CODE))
    ballot.add("page", licence_lines(NAME, OTHER_CODE))
    result = ballot.result()
    assert not result.credit_code_valid
    assert not ballot.settled
    assert result.name == NAME


def test_ballot_takes_the_valid_code_of_a_later_pass():
    misread = CODE[:10] + "8" + CODE[11:]  # "1" read as "8": fails the checks
    ballot = Ballot()
    first = ballot.add("first", licence_lines(NAME, misread))
    assert not first.credit_code_valid and not ballot.settled
    ballot.add("contrast", licence_lines(NAME, CODE))
    assert ballot.settled
    result = ballot.result()
    assert (result.credit_code, result.credit_code_valid) == (CODE, True)


def test_ballot_prefers_the_name_read_without_doubt():
    wrong = "北京朝阳云帆智能科技有限公司"
    ballot = Ballot()
    ballot.add("first", licence_lines(wrong, CODE, name_conf=uncertain(wrong, 9)))
    assert not ballot.settled  # a valid code, but an uncertain name: look again
    ballot.add("page", licence_lines(NAME, CODE))
    assert ballot.settled
    assert ballot.result().name == NAME
    assert ballot.result().name_uncertain == ()


def test_ballot_an_uncertain_name_read_alike_twice_settles():
    ballot = Ballot()
    ballot.add("first", licence_lines(NAME, CODE, name_conf=uncertain(NAME, 3)))
    ballot.add("page", licence_lines(NAME, CODE, name_conf=uncertain(NAME, 3)))
    assert ballot.settled
    assert ballot.result().name_uncertain == (3,)


def test_ballot_between_uncertain_names_takes_the_higher_scores():
    other = "北京朝阳云帆智能科技有限公司"
    ballot = Ballot()
    ballot.add("first", licence_lines(other, CODE, name_conf=tuple(
        0.5 if i in (3, 9) else 0.9 for i in range(len(other)))))
    ballot.add("page", licence_lines(NAME, CODE, name_conf=uncertain(NAME, 9)))
    assert not ballot.settled
    assert ballot.result().name == NAME


def test_ballot_without_any_code():
    ballot = Ballot()
    ballot.add("first", licence_lines(None, None))
    result = ballot.result()
    assert (result.name, result.credit_code, result.credit_code_valid) == (None, None, False)


class PassEngine:
    """Stands in for RapidOcrEngine.licence_pass: answers each call from a script."""

    name = "rapidocr"
    handles_rotation = True

    def __init__(self, answers, angle=0):
        self.answers = list(answers)
        self.angle = angle
        self.calls = []

    def readtext(self, image):
        raise AssertionError("read_licence uses licence_pass")

    def licence_pass(self, image, det_limit=None, rotate=True):
        self.calls.append((image.size, det_limit, rotate))
        return self.answers.pop(0), (self.angle if rotate else 0)


def test_a_complete_first_pass_is_the_only_pass():
    engine = PassEngine([licence_lines(NAME, CODE)])
    reading = read_licence(Image.new("RGB", (1600, 1200), "white"), engine)
    assert reading.passes == ("first",)
    assert engine.calls == [((1600, 1200), None, True)]
    assert (reading.name, reading.credit_code, reading.credit_code_valid) == (NAME, CODE, True)
    assert reading.fields is not None and reading.fields.credit_code == CODE


def test_second_looks_run_in_order_until_settled():
    # A white image has no page on a background: the page look does not apply.
    engine = PassEngine([licence_lines(NAME, None), licence_lines(None, None),
                         licence_lines(NAME, CODE), licence_lines(NAME, CODE)])
    reading = read_licence(Image.new("RGB", (800, 600), "white"), engine)
    assert reading.passes == ("first", "contrast", "sharpen")
    assert [call[1:] for call in engine.calls] == [
        (None, True), (SECOND_LOOK_DET_LIMIT, False), (SECOND_LOOK_DET_LIMIT, False)]
    assert max(engine.calls[1][0]) >= SECOND_LOOK_DET_LIMIT  # small images are enlarged
    assert (reading.credit_code, reading.credit_code_valid) == (CODE, True)
    assert len(engine.answers) == 1  # the descreen look was not needed


def test_second_looks_see_the_page_turned_upright():
    engine = PassEngine([licence_lines(NAME, None), licence_lines(NAME, CODE)], angle=90)
    read_licence(Image.new("RGB", (1200, 1600), "white"), engine)
    (first_size, *_), (second_size, *_) = engine.calls
    assert first_size == (1200, 1600)
    assert second_size[0] > second_size[1]  # turned to landscape before the second look


def test_second_looks_that_disagree_on_the_code_report_it_not_valid():
    engine = PassEngine([licence_lines(None, CODE), licence_lines(NAME, OTHER_CODE),
                         licence_lines(NAME, CODE), licence_lines(NAME, CODE)])
    reading = read_licence(Image.new("RGB", (1600, 1200), "white"), engine)
    assert reading.passes == ("first", "contrast", "sharpen", "descreen")
    assert not reading.credit_code_valid
    assert reading.name == NAME


def test_second_looks_can_be_turned_off():
    engine = PassEngine([licence_lines(NAME, None)])
    reading = read_licence(Image.new("RGB", (1600, 1200), "white"), engine, second_looks=False)
    assert reading.passes == ("first",) and reading.credit_code is None


def test_page_quad_finds_the_paper_on_a_table():
    import random

    page = Image.new("RGB", (1000, 707), licence_gen.PAPER)
    corners = [(300.0, 220.0), (1350.0, 300.0), (1280.0, 1050.0), (260.0, 980.0)]
    photo = licence_gen.on_table(page, corners, (1600, 1200), random.Random(3))
    found = page_quad(ocr._grey(photo))
    assert found is not None
    for (x, y), (fx, fy) in zip(corners, found.tolist(), strict=True):
        assert abs(x - fx) < 12 and abs(y - fy) < 12
    flat = look_page(photo)
    assert flat is not None and max(flat.size) == ocr.PAGE_SIDE
    assert flat.width > flat.height


def test_page_quad_without_a_page():
    assert page_quad(ocr._grey(Image.new("RGB", (1600, 1200), "white"))) is None
    assert look_page(Image.new("RGB", (1600, 1200), (240, 240, 240))) is None


def test_looks_return_grey_rgb_images_no_smaller_than_the_detector_limit():
    image = Image.new("RGB", (800, 600), (200, 30, 35))  # red: the seal's ink
    for look in SECOND_LOOKS[1:]:
        out = look.prepare(image)
        assert out.mode == "RGB" and max(out.size) >= SECOND_LOOK_DET_LIMIT, look.name
        r, g, b = out.getpixel((10, 10))
        assert r == g == b and r > 150, look.name  # red fades into the paper
    assert look_contrast(Image.new("RGB", (2400, 1800))).size == (2400, 1800)


# --- the real default engine -----------------------------------------------------------


@pytest.fixture(scope="session")
def engine():
    return get_engine("rapidocr")


@pytest.mark.ocr
@pytest.mark.parametrize("file", sorted(DEV_TRUTH))
def test_dev_fixtures_exact(engine, file):
    reading = read_licence(DEV / file, engine)
    assert reading.name == DEV_TRUTH[file]["name"]
    assert reading.credit_code == DEV_TRUTH[file]["credit_code"]
    assert reading.credit_code_valid
    assert reading.engine == "rapidocr"
    assert reading.passes == ("first",)  # a clean licence costs one pass, as before


@pytest.mark.ocr
@pytest.mark.parametrize("file", sorted(HARD_TRUTH))
def test_hard_cases(engine, file):
    reading = read_licence(HARD / file, engine)
    truth = HARD_TRUTH[file]
    assert reading.name == truth["name"]
    if reading.credit_code_valid:
        assert reading.credit_code == truth["credit_code"]  # never a wrong code passing the check
    if file not in HARD_CODE_MISSES:
        assert (reading.credit_code, reading.credit_code_valid) == (truth["credit_code"], True)


@pytest.mark.ocr
def test_pdf_upload_and_ocr_files(engine, tmp_path):
    with Image.open(DEV / "dev01_clean.jpg") as image:
        pdf = encoded(image.convert("RGB"), "PDF", resolution=200)
    reading = read_licence(pdf, engine)
    assert (reading.name, reading.credit_code) == (
        DEV_TRUTH["dev01_clean.jpg"]["name"], DEV_TRUTH["dev01_clean.jpg"]["credit_code"])
    (tmp_path / "licence.pdf").write_bytes(pdf)
    (tmp_path / "broken.png").write_bytes(b"nope")
    rows = ocr_files([tmp_path / "licence.pdf", tmp_path / "broken.png"])
    assert set(rows[0]) == {"file", "name", "credit_code", "credit_code_valid", "engine", "seconds"}
    assert rows[0]["credit_code"] == DEV_TRUTH["dev01_clean.jpg"]["credit_code"]
    assert rows[0]["credit_code_valid"] is True
    assert rows[1]["name"] is None
    assert rows[1]["error"].startswith("format")


@pytest.mark.ocr
def test_heldback_half_never_a_wrong_valid_code(engine):
    """The held-back half (never tuned on): no wrong code reported valid, and the rates the
    issue asks for (names ≥ 90 %, codes ≥ 85 %). About 30 s on two idle cores."""
    wrong_valid, names, codes = [], 0, 0
    for file, truth in sorted(HELDBACK_TRUTH.items()):
        reading = read_licence(HELDBACK / file, engine)
        if reading.credit_code_valid and reading.credit_code != truth["credit_code"]:
            wrong_valid.append((file, reading.credit_code))
        names += reading.name == truth["name"]
        codes += reading.credit_code_valid and reading.credit_code == truth["credit_code"]
    assert wrong_valid == []
    assert names / len(HELDBACK_TRUTH) >= 0.9
    assert codes / len(HELDBACK_TRUTH) >= 0.85
