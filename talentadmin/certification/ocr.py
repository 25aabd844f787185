"""OCR of business licences: upload loading, OCR engines and :func:`read_licence`.

Two engines: ``rapidocr`` (default; PP-OCR models shipped inside the ``rapidocr`` wheel, run by
``onnxruntime``) and ``easyocr`` (optional extra; weights from a configured directory, downloads
disabled). An engine is built once per process and options, lazily, under a lock
(:func:`get_engine`); OCR calls on one engine are serialised so two cores are not oversubscribed.

:func:`read_licence` reads a licence once; only when that gives no name and code passing
every check does it read the image again after other preprocessings (:data:`SECOND_LOOKS`:
the page cut out and flattened, contrast equalised, sharpened, descreened) and let the passes
vote (:class:`Ballot`), stopping as soon as both fields are settled.
"""

from __future__ import annotations

import io
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from .licence import (
    Confidence,
    LicenceFields,
    OcrLine,
    best_name,
    has_label,
    lines_to_read,
    parse_licence,
    to_boxes,
)

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
    lines: tuple[OcrLine, ...]  # the first pass's lines
    fields: LicenceFields | None = None  # the reported values with their details
    passes: tuple[str, ...] = ("first",)  # the preprocessings read, in order


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
        map_large_buffers()
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
            "Global.return_word_box": True,  # a score per character, for the name check
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
        return self.licence_pass(image)[0]

    def licence_pass(
        self, image: Image.Image, det_limit: int | None = None, rotate: bool = True
    ) -> tuple[list[OcrLine], int]:
        """:meth:`readtext_for_licence` with the detector's limit ``det_limit`` (longest side
        given to the detector; the engine's own when None) and the image's longest side at
        least that; returns the lines and the page's clockwise rotation found (0 when
        ``rotate`` is off: the caller turned the page upright already)."""
        max_side = max(self.max_side, det_limit or 0)
        with self._lock:
            saved = self._det_limit(det_limit)
            try:
                page = self._detect(prepare_image(image, max_side, self.drop_red), rotate)
            finally:
                self._det_limit(saved)
            first = set(page.first_pass())
            texts = self._recognise(page, sorted(first))
            rest = [i for i in range(len(page.crops)) if i not in first]
            wanted = lines_to_read(page.lines(texts), [page.boxes[i] for i in rest])
            near = {rest[j] for j in wanted}
            texts.update(self._recognise(page, sorted(near)))
            if not parse_licence(page.lines(texts)).complete:
                texts.update(self._recognise(page, [i for i in rest if i not in near]))
            del page.crops
            return_freed_memory()
            return page.lines(texts), page.angle

    def _det_limit(self, limit: int | None) -> int | None:
        """Set the detector's longest-side limit (None: leave it); returns the previous one.
        Called under the engine's lock: RapidOCR reads it on each detection."""
        detector = self._ocr.text_det
        previous = detector.limit_side_len
        if limit:
            detector.limit_side_len = limit
        return previous

    def _detect(self, image: Image.Image, rotate: bool = True) -> _DetectedPage:
        """Detect and classify; an upside-down page is mapped, a sideways one turned."""
        page = self._detect_once(image)
        angle = 0
        if rotate and self.rotate and self.use_cls:
            angle = page_rotation(page.boxes, page.cls)
        if angle == 180:
            page.boxes = [_rotate_box_180(b, image.size) for b in page.boxes]
        elif angle in (90, 270):
            turn = Image.Transpose.ROTATE_90 if angle == 90 else Image.Transpose.ROTATE_270
            page = self._detect_once(image.transpose(turn))
        page.angle = angle
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
    ) -> dict[int, tuple[str, Confidence]]:
        """``{index: (text, scores)}`` for the crops at ``indices`` scoring at least text_score
        on the line; ``scores`` is one per character when RapidOCR gives them, else the line's."""
        indices = list(indices)
        if not indices:
            return {}
        try:
            rec = self._ocr.recognize_txt([page.crops[i] for i in indices])
        except self._error:
            return {}
        words = rec.word_results if len(rec.word_results) == len(indices) else [None] * len(indices)
        found: dict[int, tuple[str, Confidence]] = {}
        for i, text, score, word in zip(indices, rec.txts, rec.scores, words, strict=True):
            if not text.strip() or score < self.text_score:
                continue
            chars = getattr(word, "confs", None)
            found[i] = (text, tuple(chars) if chars and len(chars) == len(text) else float(score))
        return found


def _glibc() -> Any | None:
    """The C library when it is glibc (Linux), else None."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if platform.system() == "Linux" else None
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_libc = _glibc()
LARGE_BUFFER = 8 * 2**20  # bytes: buffers this large are mapped on their own (see below)


def map_large_buffers() -> bool:
    """Have glibc map each buffer of :data:`LARGE_BUFFER` or more on its own, and give the
    heap's free top back above that size (``mallopt``); returns whether it was done.

    onnxruntime allocates its tensors afresh on each run (RapidOCR turns its arena off). With
    glibc's defaults the detector's large feature maps end up in the heap, freed but kept and
    fragmented, and a process reading large pages and small ones grows well past what one
    reading needs. Mapped on their own they go back to the system when freed: measured on the
    fixtures, peak RSS about 530 MB instead of about 610 MB, for about 5 % more CPU time (a
    threshold of 128 KiB gives 455 MB for a third more CPU time). Process-wide; called by the
    engine.
    """
    if _libc is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(_libc.mallopt(m_mmap_threshold, LARGE_BUFFER)
                and _libc.mallopt(m_trim_threshold, LARGE_BUFFER))


def return_freed_memory() -> bool:
    """Give the free pages of every heap back to the system (glibc's ``malloc_trim``) after a
    pass; returns whether that was possible."""
    if _libc is None:
        return False
    _libc.malloc_trim(0)
    return True


SHORT_BOX_ASPECT = 9.0  # width / height of a crop read in the first pass (labels are short)
UPPER_PART = 0.45  # boxes centred in this top fraction of the text area are read first


@dataclass
class _DetectedPage:
    """Detected boxes (upright page frame), their crops (text upright) and cls results."""

    boxes: list[list[tuple[float, float]]]
    crops: list[Any]
    cls: list[Any]
    angle: int = 0  # clockwise rotation of the page found by :meth:`RapidOcrEngine._detect`

    def lines(self, texts: dict[int, tuple[str, Confidence]]) -> list[OcrLine]:
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
_UPRIGHT = {  # a page found turned clockwise by this angle is turned back by this transpose
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def read_licence(
    image_or_bytes: Image.Image | bytes | str | Path | BinaryIO,
    engine: str | OcrEngine | None = None,
    second_looks: bool = True,
) -> LicenceReading:
    """OCR one licence (image, upload bytes or path) and extract its 名称 and credit code.

    When the first pass does not give a name and a credit code passing every check, the
    image is read again after other preprocessings (:data:`SECOND_LOOKS`; engines with
    :meth:`RapidOcrEngine.licence_pass` only, and only when ``second_looks``), and the passes
    vote (:class:`Ballot`): a code is reported valid only when every valid code read agrees.
    """
    ocr = engine if engine is not None and not isinstance(engine, str) else get_engine(engine)
    started = time.perf_counter()
    if isinstance(image_or_bytes, Image.Image):
        image = image_or_bytes
    else:
        image = load_image(image_or_bytes)
    licence_pass = getattr(ocr, "licence_pass", None)
    angle = 0
    if licence_pass is not None:
        lines, angle = licence_pass(image)
    else:
        lines = getattr(ocr, "readtext_for_licence", ocr.readtext)(image)
    if not ocr.handles_rotation and not has_label(to_boxes(lines)):
        lines = _try_turns(ocr, image, lines)
    ballot = Ballot()
    ballot.add("first", lines)
    passes = ["first"]
    if licence_pass is not None and second_looks and not ballot.settled:
        upright = image.transpose(_UPRIGHT[angle]) if angle in _UPRIGHT else image
        for look in SECOND_LOOKS:
            prepared = look.prepare(upright)
            if prepared is None:
                continue
            more, _ = licence_pass(prepared, det_limit=look.det_limit, rotate=False)
            ballot.add(look.name, more)
            passes.append(look.name)
            if ballot.settled:
                break
    fields = ballot.result()
    return LicenceReading(
        name=fields.name,
        credit_code=fields.credit_code,
        credit_code_valid=fields.credit_code_valid,
        engine=ocr.name,
        seconds=time.perf_counter() - started,
        lines=tuple(lines),
        fields=fields,
        passes=tuple(passes),
    )


# --- second looks: other preprocessings, and the vote between passes -------------------

PAGE_SIDE = 2000  # longest side of a page cut out of a photo (a licence's text ≈ 34 px)
SECOND_LOOK_DET_LIMIT = 1280  # 1600 reads a little more but peaks 200 MB higher
CLAHE_CLIP = 3.0


@dataclass(frozen=True)
class SecondLook:
    """A preprocessing tried when the first pass falls short: ``prepare`` returns the image to
    read (None when it does not apply to this image) and ``det_limit`` the detector's limit."""

    name: str
    prepare: Callable[[Image.Image], Image.Image | None]
    det_limit: int = SECOND_LOOK_DET_LIMIT


def _grey(image: Image.Image) -> Any:
    """The red channel as a grey uint8 array: red seals fade, black print stays black."""
    import numpy as np

    return np.asarray(to_rgb(image).getchannel("R"))


def _from_grey(grey: Any) -> Image.Image:
    return Image.fromarray(grey).convert("RGB")


def _clahe(grey: Any) -> Any:
    """Contrast-limited adaptive histogram equalisation: faint print under glare or in a
    washed-out scan gets back its contrast, tile by tile."""
    import cv2

    return cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(8, 8)).apply(grey)


def _at_least(grey: Any, side: int) -> Any:
    """Upscaled (cubic) so the longest side is at least ``side``: small text gets bigger."""
    import cv2

    longest = max(grey.shape[:2])
    if longest >= side:
        return grey
    ratio = side / longest
    return cv2.resize(grey, None, fx=ratio, fy=ratio, interpolation=cv2.INTER_CUBIC)


def page_quad(grey: Any) -> Any | None:
    """The four corners (TL, TR, BR, BL, float32) of the paper in a photo, or None when no
    page stands out from the background (a scan, a page filling the frame).

    The page is the largest bright region (Otsu threshold of a reduced, blurred copy); its
    convex hull simplified to four points, else its minimum-area rectangle.
    """
    import cv2
    import numpy as np

    height, width = grey.shape[:2]
    scale = 600 / max(height, width)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    area = cv2.contourArea(hull)
    frame = small.shape[0] * small.shape[1]
    if not 0.08 * frame <= area <= 0.97 * frame:
        return None
    quad = None
    for epsilon in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, epsilon * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float32)
            break
    if quad is None:
        quad = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    return _order_corners(quad) / scale


def _order_corners(points: Any) -> Any:
    """TL, TR, BR, BL from four points in any order."""
    import numpy as np

    total = points.sum(axis=1)
    diff = points[:, 1] - points[:, 0]
    return np.array([points[np.argmin(total)], points[np.argmin(diff)],
                     points[np.argmax(total)], points[np.argmax(diff)]], np.float32)


def flatten_page(grey: Any, quad: Any, side: int = PAGE_SIDE) -> Any:
    """The page inside ``quad`` warped to a rectangle whose longest side is ``side``."""
    import cv2
    import numpy as np

    tl, tr, br, bl = quad
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    ratio = side / max(width, height, 1.0)
    w, h = max(int(width * ratio), 1), max(int(height * ratio), 1)
    target = np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    return cv2.warpPerspective(grey, matrix, (w, h), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def look_page(image: Image.Image) -> Image.Image | None:
    """The paper cut out of the photo, its perspective corrected, enlarged to
    :data:`PAGE_SIDE`, contrast equalised (a tilted, side-on or distant photo)."""
    grey = _grey(image)
    quad = page_quad(grey)
    if quad is None:
        return None
    return _from_grey(_clahe(flatten_page(grey, quad)))


def look_contrast(image: Image.Image) -> Image.Image:
    """The whole image contrast-equalised, small images enlarged (glare, a grey scan)."""
    return _from_grey(_clahe(_at_least(_grey(image), SECOND_LOOK_DET_LIMIT)))


def look_sharpen(image: Image.Image) -> Image.Image:
    """Unsharp-masked after equalisation: strokes softened by defocus get their edges back."""
    import cv2

    grey = _clahe(_at_least(_grey(image), SECOND_LOOK_DET_LIMIT))
    blurred = cv2.GaussianBlur(grey, (0, 0), 2.0)
    return _from_grey(cv2.addWeighted(grey, 2.2, blurred, -1.2, 0))


def look_descreen(image: Image.Image) -> Image.Image:
    """Smoothed (Gaussian, σ 2 px): a screen's pixel grid (moiré) and JPEG blocks melt into
    the paper while strokes stay. Not equalised: that would bring the grid back."""
    import cv2

    grey = _at_least(_grey(image), SECOND_LOOK_DET_LIMIT)
    return _from_grey(cv2.GaussianBlur(grey, (0, 0), 2.0))


SECOND_LOOKS: tuple[SecondLook, ...] = (
    SecondLook("page", look_page),
    SecondLook("contrast", look_contrast),
    SecondLook("sharpen", look_sharpen),
    SecondLook("descreen", look_descreen),
)


class Ballot:
    """The votes of the passes over one licence.

    Code: every code read as printed that passes every check is a vote; the code is reported
    valid only when all such votes agree (two different valid codes: none is valid). Without a
    valid code, the most voted correction, else the first guess, is reported not valid.
    Name: a labelled name ending in a company-form suffix beats any other; among those, the
    value more passes read, then the one read with no uncertain character, then the higher
    mean character score. Settled: a valid code and a name either read with no uncertain
    character or read alike by two passes.
    """

    def __init__(self) -> None:
        self.readings: list[tuple[str, LicenceFields]] = []
        self._name_scores: dict[int, float] = {}

    def add(self, look: str, lines: Sequence[OcrLine]) -> LicenceFields:
        """Count the fields a pass read in ``lines``; returns them."""
        fields = parse_licence(lines)
        name = best_name(to_boxes(lines)) if fields.name else None
        if name is not None and name.value == fields.name and name.confs:
            self._name_scores[id(fields)] = sum(name.confs) / len(name.confs)
        self.readings.append((look, fields))
        return fields

    def _valid_codes(self) -> set[str]:
        return {f.credit_code for _, f in self.readings if f.credit_code_valid and f.credit_code}

    def _names(self) -> list[LicenceFields]:
        return [f for _, f in self.readings if f.name]

    @staticmethod
    def _strong(fields: LicenceFields) -> bool:
        from .licence import NAME_SUFFIXES

        return bool(fields.name_from_label and fields.name
                    and fields.name.endswith(NAME_SUFFIXES))

    def _best_name(self) -> LicenceFields | None:
        names = self._names()
        if not names:
            return None
        votes: dict[str, int] = {}
        for fields in names:
            votes[fields.name or ""] = votes.get(fields.name or "", 0) + 1
        return max(names, key=lambda f: (self._strong(f), votes[f.name or ""],
                                         not f.name_uncertain, self._name_scores.get(id(f), 0)))

    @property
    def settled(self) -> bool:
        if len(self._valid_codes()) != 1:
            return False
        best = self._best_name()
        if best is None or not self._strong(best):
            return False
        agreeing = sum(1 for f in self._names() if f.name == best.name)
        return not best.name_uncertain or agreeing >= 2

    def result(self) -> LicenceFields:
        """The fields reported: the best name, the agreed code (see the class)."""
        valid = self._valid_codes()
        code_from: LicenceFields | None = None
        if len(valid) == 1:
            code = next(iter(valid))
            code_from = next(f for _, f in self.readings if f.credit_code == code
                             and f.credit_code_valid)
        else:
            corrected = [f for _, f in self.readings
                         if f.code_corrected_from and f.credit_code
                         and f.credit_code not in valid]
            if corrected:
                counts: dict[str, int] = {}
                for f in corrected:
                    counts[f.credit_code or ""] = counts.get(f.credit_code or "", 0) + 1
                code_from = max(corrected, key=lambda f: counts[f.credit_code or ""])
            else:
                code_from = next((f for _, f in self.readings if f.credit_code), None)
        name = self._best_name()
        code_valid = bool(len(valid) == 1 and code_from is not None
                          and code_from.credit_code_valid)
        return LicenceFields(
            name.name if name else None,
            code_from.credit_code if code_from else None,
            code_valid,
            name_from_label=bool(name and name.name_from_label),
            code_corrected_from=None if code_valid or code_from is None
            else code_from.code_corrected_from,
            name_uncertain=name.name_uncertain if name else (),
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
