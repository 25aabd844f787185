"""OCR of business licences: upload loading, OCR engines and :func:`read_licence`.

Two engines: ``rapidocr`` (default; PP-OCR models shipped inside the ``rapidocr`` wheel, run by
``onnxruntime``) and ``easyocr`` (optional extra; weights from a configured directory, downloads
disabled). An engine is built once per process and options, lazily, under a lock
(:func:`get_engine`); OCR calls on one engine are serialised so two cores are not oversubscribed.
"""

from __future__ import annotations

import io
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from .licence import OcrLine, has_label, lines_to_read, parse_licence, to_boxes

DEFAULT_ENGINE = "rapidocr"
DEFAULT_MAX_SIDE = 1600  # longest side given to the detector, in pixels
PDF_RENDER_SIDE = 2000  # longest side of a rendered PDF page, in pixels
IMAGE_FORMATS = ("JPEG", "MPO", "PNG")  # MPO: JPEG from phones with an embedded preview
EASYOCR_LANGS = ("ch_sim", "en")
EASYOCR_WEIGHTS = ("craft_mlt_25k.pth", "zh_sim_g2.pth")
EASYOCR_MODEL_DIR_ENV = "TALENTADMIN_EASYOCR_MODEL_DIR"


class OcrError(Exception):
    """Base class of the errors of this module."""


class EngineUnavailable(OcrError):
    """The OCR engine cannot start (package or model files missing)."""


class UnreadableUpload(OcrError, ValueError):
    """The upload is not a readable JPG/PNG/PDF; ``reason`` is a short machine code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class OcrEngine(Protocol):
    """An engine turns an upright-ish RGB image into OCR lines ``(text, box, confidence)``."""

    name: str
    handles_rotation: bool

    def readtext(self, image: Image.Image) -> list[OcrLine]: ...


@dataclass(frozen=True)
class LicenceReading:
    """The fields read from one licence image."""

    name: str | None
    credit_code: str | None
    credit_code_valid: bool
    engine: str
    seconds: float
    lines: tuple[OcrLine, ...]


# --- loading uploads ------------------------------------------------------------


def load_image(data: bytes | str | Path | BinaryIO) -> Image.Image:
    """An RGB image from JPG/PNG bytes (EXIF orientation applied) or a PDF's first page."""
    raw = _read_bytes(data)
    if raw.lstrip()[:5] == b"%PDF-":
        return render_pdf(raw)
    try:
        image = Image.open(io.BytesIO(raw))
        if image.format not in IMAGE_FORMATS:
            raise UnreadableUpload("format", str(image.format))
        image.load()
    except Image.DecompressionBombError as exc:
        raise UnreadableUpload("too_large", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise UnreadableUpload("format", str(exc)) from exc
    except OSError as exc:
        raise UnreadableUpload("corrupt", str(exc)) from exc
    return to_rgb(ImageOps.exif_transpose(image))


def render_pdf(raw: bytes, longest_side: int = PDF_RENDER_SIDE) -> Image.Image:
    """The first page of a PDF rendered by PDFium (behind the process-wide lock of
    :mod:`talentadmin.core.pdf`), longest side ``longest_side``."""
    from ..core import pdf

    try:
        return to_rgb(pdf.render_first_page(raw, longest_side, max_scale=8.0))
    except pdf.PdfError as exc:
        raise UnreadableUpload("empty_pdf" if exc.reason == "empty" else "corrupt",
                               str(exc)) from exc


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparency flattened on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def prepare_image(
    image: Image.Image, max_side: int = DEFAULT_MAX_SIDE, drop_red: bool = False
) -> Image.Image:
    """RGB, downscaled so the longest side is at most ``max_side`` (never upscaled).

    ``drop_red`` keeps only the red channel (as grey): red seals and the red title fade into
    the paper while black print stays black.
    """
    image = to_rgb(image)
    longest = max(image.size)
    if longest > max_side:
        ratio = max_side / longest
        size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if drop_red:
        red = image.getchannel("R")
        image = Image.merge("RGB", (red, red, red))
    return image


def _read_bytes(data: bytes | str | Path | BinaryIO) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str | Path):
        return Path(data).read_bytes()
    return data.read()


# --- engines --------------------------------------------------------------------


class RapidOcrEngine:
    """RapidOCR (PP-OCR det + cls + rec on onnxruntime) with the models bundled in its wheel.

    The page orientation is read from the text-direction classifier and the shape of the
    detected boxes: upside down costs nothing (boxes are mapped), 90°/270° costs a second
    detection on the turned page.
    """

    name = "rapidocr"
    handles_rotation = True
    MODEL_FILES = {
        "Det": "PP-OCRv6_det_small.onnx",
        "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "Rec": "PP-OCRv6_rec_small.onnx",
    }

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        drop_red: bool = True,
        det_limit_side_len: int = 960,
        text_score: float = 0.5,
        use_cls: bool = True,
        threads: int | None = None,
        rec_min_width: int = 96,
        rotate: bool = True,
        model_dir: str | Path | None = None,
    ) -> None:
        try:
            import rapidocr
            from rapidocr.main import RapidOCRError
        except ImportError as exc:
            raise EngineUnavailable("the rapidocr package is not installed") from exc
        models = Path(model_dir) if model_dir else Path(rapidocr.__file__).parent / "models"
        missing = [f for f in self.MODEL_FILES.values() if not (models / f).is_file()]
        if missing:
            raise EngineUnavailable(
                f"rapidocr model files missing in {models}: {', '.join(missing)}"
            )
        self.max_side = max_side
        self.drop_red = drop_red
        self.text_score = text_score
        self.use_cls = use_cls
        self.rotate = rotate
        self._error = RapidOCRError
        self._lock = threading.Lock()
        params = self._params(models, det_limit_side_len, threads, rec_min_width)
        self._ocr = rapidocr.RapidOCR(params=params)
        self._warm_up()

    def _params(
        self, models: Path, det_limit: int, threads: int | None, rec_min_width: int
    ) -> dict[str, Any]:
        """RapidOCR settings: bundled model files, detector limit, recogniser width, threads."""
        params: dict[str, Any] = {
            f"{task}.model_path": str(models / file) for task, file in self.MODEL_FILES.items()
        }
        params.update({
            "Global.log_level": "warning",
            "Det.limit_type": "max",
            "Det.limit_side_len": det_limit,
            "Rec.rec_img_shape": [3, 48, rec_min_width],
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        return params

    def _warm_up(self) -> None:
        """Load the three models now (RapidOCR loads them on first use) and prime onnxruntime."""
        image = Image.new("RGB", (360, 64), "white")
        ImageDraw.Draw(image).text((10, 12), "91110105MA01R8DQ2M", fill="black", font_size=28)
        self.readtext(image)

    def readtext(self, image: Image.Image) -> list[OcrLine]:
        """All the text lines of ``image``, boxes in the upright page frame."""
        with self._lock:
            page = self._detect(prepare_image(image, self.max_side, self.drop_red))
            return page.lines(self._recognise(page, range(len(page.crops))))

    def readtext_for_licence(self, image: Image.Image) -> list[OcrLine]:
        """The lines a licence's 名称 and credit code need, recognising as few as possible.

        The short boxes (labels) and the upper part of the page (the code, the name) are read
        first, then the boxes next to the labels found; only when that does not give a labelled
        name and a valid credit code is the rest (business scope, address, footer) read.
        """
        with self._lock:
            page = self._detect(prepare_image(image, self.max_side, self.drop_red))
            first = set(page.first_pass())
            texts = self._recognise(page, sorted(first))
            rest = [i for i in range(len(page.crops)) if i not in first]
            wanted = lines_to_read(page.lines(texts), [page.boxes[i] for i in rest])
            near = {rest[j] for j in wanted}
            texts.update(self._recognise(page, sorted(near)))
            if not parse_licence(page.lines(texts)).complete:
                texts.update(self._recognise(page, [i for i in rest if i not in near]))
            return page.lines(texts)

    def _detect(self, image: Image.Image) -> _DetectedPage:
        """Detect and classify; an upside-down page is mapped, a sideways one turned."""
        page = self._detect_once(image)
        angle = page_rotation(page.boxes, page.cls) if self.rotate and self.use_cls else 0
        if angle == 180:
            page.boxes = [_rotate_box_180(b, image.size) for b in page.boxes]
        elif angle in (90, 270):
            turn = Image.Transpose.ROTATE_90 if angle == 90 else Image.Transpose.ROTATE_270
            page = self._detect_once(image.transpose(turn))
        return page

    def _detect_once(self, image: Image.Image) -> _DetectedPage:
        import numpy as np

        bgr = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
        record: dict[str, Any] = {"preprocess": {"ratio_h": 1.0, "ratio_w": 1.0}}
        try:
            crops, det = self._ocr.detect_and_crop(bgr, record)
        except self._error:
            return _DetectedPage([], [], [])
        cls_res: list[Any] = []
        if self.use_cls:
            try:
                crops, cls = self._ocr.cls_and_rotate(crops)
                cls_res = list(cls.cls_res)
            except self._error:
                pass
        pad = record.get("padding_1", {})
        top, left = pad.get("top", 0), pad.get("left", 0)
        boxes = [[(float(x) - left, float(y) - top) for x, y in box] for box in det.boxes]
        return _DetectedPage(boxes, list(crops), cls_res)

    def _recognise(
        self, page: _DetectedPage, indices: Iterable[int]
    ) -> dict[int, tuple[str, float]]:
        """``{index: (text, score)}`` for the crops at ``indices`` scoring at least text_score."""
        indices = list(indices)
        if not indices:
            return {}
        try:
            rec = self._ocr.recognize_txt([page.crops[i] for i in indices])
        except self._error:
            return {}
        return {
            i: (text, float(score))
            for i, text, score in zip(indices, rec.txts, rec.scores, strict=True)
            if text.strip() and score >= self.text_score
        }


SHORT_BOX_ASPECT = 9.0  # width / height of a crop read in the first pass (labels are short)
UPPER_PART = 0.45  # boxes centred in this top fraction of the text area are read first


@dataclass
class _DetectedPage:
    """Detected boxes (upright page frame), their crops (text upright) and cls results."""

    boxes: list[list[tuple[float, float]]]
    crops: list[Any]
    cls: list[Any]

    def lines(self, texts: dict[int, tuple[str, float]]) -> list[OcrLine]:
        return [(texts[i][0], self.boxes[i], texts[i][1]) for i in sorted(texts)]

    def first_pass(self) -> list[int]:
        """Short boxes anywhere, and every box in the upper part of the text area."""
        if not self.boxes:
            return []
        tops = [min(y for _, y in box) for box in self.boxes]
        bottoms = [max(y for _, y in box) for box in self.boxes]
        limit = min(tops) + UPPER_PART * (max(bottoms) - min(tops))
        return [
            i
            for i, crop in enumerate(self.crops)
            if _aspect(crop) <= SHORT_BOX_ASPECT or (tops[i] + bottoms[i]) / 2 <= limit
        ]


def _aspect(crop: Any) -> float:
    height, width = crop.shape[:2]
    return width / max(height, 1)


def page_rotation(boxes: Iterable[Sequence[Sequence[float]]], cls_res: Sequence[Any]) -> int:
    """Clockwise rotation of the page (0/90/180/270) from box shapes and cls labels.

    RapidOCR turns a crop at least 1.5× taller than wide by 90° counter-clockwise before the
    classifier; the classifier then says whether the crop reads upside down. Each elongated
    box votes with its length; square boxes (single characters) do not vote.
    """
    votes = {0: 0.0, 90: 0.0, 180: 0.0, 270: 0.0}
    for box, cls in zip(boxes, cls_res, strict=False):
        width = math.dist(box[0], box[1])
        height = math.dist(box[0], box[3])
        flipped = str(cls[0]) == "180" and float(cls[1]) > 0.9
        if width >= 1.5 * height:
            votes[180 if flipped else 0] += width
        elif height >= 1.5 * width:
            votes[270 if flipped else 90] += height
    best = max(votes, key=lambda angle: votes[angle])
    return best if votes[best] > 0.5 * sum(votes.values()) else 0


def _rotate_box_180(
    box: list[tuple[float, float]], size: tuple[int, int]
) -> list[tuple[float, float]]:
    """The box of a page turned by 180°, points still TL, TR, BR, BL."""
    width, height = size
    turned = [(width - x, height - y) for x, y in box]
    return turned[2:] + turned[:2]


class EasyOcrEngine:
    """EasyOCR (``ch_sim`` + ``en``), weights from ``model_dir``, downloads disabled.

    ``reader`` replaces the real ``easyocr.Reader`` (tests use a fake).
    """

    name = "easyocr"
    handles_rotation = False

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        reader: Any = None,
        max_side: int = DEFAULT_MAX_SIDE,
        gpu: bool = False,
    ) -> None:
        self.max_side = max_side
        self._lock = threading.Lock()
        self._reader = reader if reader is not None else self._make_reader(model_dir, gpu)

    @staticmethod
    def _make_reader(model_dir: str | Path | None, gpu: bool) -> Any:
        directory = model_dir or os.environ.get(EASYOCR_MODEL_DIR_ENV)
        if not directory:
            raise EngineUnavailable(
                f"easyocr needs a model directory ({EASYOCR_MODEL_DIR_ENV}) holding "
                + ", ".join(EASYOCR_WEIGHTS)
            )
        missing = [f for f in EASYOCR_WEIGHTS if not (Path(directory) / f).is_file()]
        if missing:
            raise EngineUnavailable(
                f"easyocr weight files missing in {directory}: {', '.join(missing)}"
            )
        try:
            import easyocr
        except ImportError as exc:
            raise EngineUnavailable(
                "the easyocr package is not installed (pip install 'talentadmin[easyocr]')"
            ) from exc
        return easyocr.Reader(
            list(EASYOCR_LANGS),
            gpu=gpu,
            model_storage_directory=str(directory),
            user_network_directory=str(directory),
            download_enabled=False,
            verbose=False,
        )

    def readtext(self, image: Image.Image) -> list[OcrLine]:
        import numpy as np

        pixels = np.asarray(prepare_image(image, self.max_side))
        with self._lock:
            results = self._reader.readtext(pixels, detail=1, paragraph=False)
        return [
            (str(text), [(float(x), float(y)) for x, y in box], float(conf))
            for box, text, conf in results
        ]


ENGINES: dict[str, Callable[..., OcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "easyocr": EasyOcrEngine,
}
_engines: dict[tuple[str, tuple[tuple[str, Any], ...]], OcrEngine] = {}
_engines_lock = threading.Lock()


def get_engine(name: str | None = None, **options: Any) -> OcrEngine:
    """The engine ``name`` (default rapidocr) with ``options``, built once per process."""
    name = name or DEFAULT_ENGINE
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    key = (name, tuple(sorted(options.items())))
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = ENGINES[name](**options)
    return engine


def clear_engines() -> None:
    """Forget the built engines (tests)."""
    with _engines_lock:
        _engines.clear()


# --- reading a licence ----------------------------------------------------------

_FALLBACK_TURNS = (
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
)


def read_licence(
    image_or_bytes: Image.Image | bytes | str | Path | BinaryIO,
    engine: str | OcrEngine | None = None,
) -> LicenceReading:
    """OCR one licence (image, upload bytes or path) and extract its 名称 and credit code."""
    ocr = engine if engine is not None and not isinstance(engine, str) else get_engine(engine)
    started = time.perf_counter()
    if isinstance(image_or_bytes, Image.Image):
        image = image_or_bytes
    else:
        image = load_image(image_or_bytes)
    read = getattr(ocr, "readtext_for_licence", ocr.readtext)
    lines = read(image)
    if not ocr.handles_rotation and not has_label(to_boxes(lines)):
        lines = _try_turns(ocr, image, lines)
    fields = parse_licence(lines)
    return LicenceReading(
        name=fields.name,
        credit_code=fields.credit_code,
        credit_code_valid=fields.credit_code_valid,
        engine=ocr.name,
        seconds=time.perf_counter() - started,
        lines=tuple(lines),
    )


def _try_turns(ocr: OcrEngine, image: Image.Image, lines: list[OcrLine]) -> list[OcrLine]:
    """For engines without orientation handling: turn the page until a label shows up."""
    for turn in _FALLBACK_TURNS:
        turned = ocr.readtext(image.transpose(turn))
        if has_label(to_boxes(turned)):
            return turned
    return lines


def ocr_files(paths: Iterable[str | Path], engine: str | OcrEngine | None = None) -> list[dict]:
    """Read each file; one dict per file (``error`` added when the file cannot be read)."""
    results = []
    for path in paths:
        row: dict[str, Any] = {"file": str(path)}
        fallback_name = engine if isinstance(engine, str) else getattr(engine, "name", None)
        try:
            reading = read_licence(Path(path), engine)
        except (UnreadableUpload, OSError) as exc:
            row.update(name=None, credit_code=None, credit_code_valid=False,
                       engine=fallback_name or DEFAULT_ENGINE, seconds=0.0,
                       error=str(exc))
        else:
            row.update(name=reading.name, credit_code=reading.credit_code,
                       credit_code_valid=reading.credit_code_valid, engine=reading.engine,
                       seconds=round(reading.seconds, 3))
        results.append(row)
    return results
