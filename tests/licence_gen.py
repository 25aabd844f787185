"""Generate synthetic business licences (营业执照) that are hard to read, for the OCR tests.

Run ``python tests/licence_gen.py [FIXTURES_DIR]`` (default ``tests/fixtures``) from the
repository root: it writes ``licences_hard/`` (the first nine cases), ``licences_tune/`` and
``licences_heldback/`` (the 42 cases of the broader set, split in two halves), each with a
``truth.json``. Needs Pillow, numpy, OpenCV and the CJK fonts (Debian ``fonts-noto-cjk``). Every
case has a fixed seed, so the output is the same on every run with the same libraries and fonts.
Companies, people and addresses are invented; every 统一社会信用代码 passes the GB 32100 check
character and the GB 11714 check of its organisation code, in a GB/T 2260 division.
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from talentadmin.core.validators import CREDIT_CODE_ALPHABET, credit_code_check_char  # noqa: E402

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
SANS = FONT_DIR / "NotoSansCJK-Regular.ttc"
SANS_BOLD = FONT_DIR / "NotoSansCJK-Bold.ttc"
SERIF = FONT_DIR / "NotoSerifCJK-Regular.ttc"
SERIF_BOLD = FONT_DIR / "NotoSerifCJK-Bold.ttc"
SC_INDEX = 2  # Simplified Chinese face inside the .ttc collections
DEFAULT_OUT = ROOT / "tests" / "fixtures"
SPLIT_DIRS = {"hard": "licences_hard", "tune": "licences_tune", "heldback": "licences_heldback"}

PAPER = (250, 245, 232)
INK = (30, 30, 30)
RED = (200, 30, 35)
GOLD = (180, 130, 70)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=SC_INDEX)


ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(rng: random.Random, region: str, registrar: str = "91",
                     numeric_org: bool = False) -> str:
    """A random code passing GB 32100 and GB 11714 in the division ``region``.

    The organisation code is ``MA`` + 6 characters (codes issued since 2015) or, with
    ``numeric_org``, 8 digits (an older organisation code), then its GB 11714 check character.
    """
    if numeric_org:
        org = "".join(rng.choice("0123456789") for _ in range(8))
    else:
        org = "MA" + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(6))
    body = registrar + region + org + org_code_check_char(org)
    return body + credit_code_check_char(body)


@dataclass
class Licence:
    """The printed content of one licence."""

    name: str
    code: str
    kind: str
    person: str
    capital: str
    founded: str
    address: str
    scope: str
    registrar: str
    person_label: str = "法定代表人"
    address_label: str = "住所"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Style:
    """Fonts of one licence: body text, labels, the credit code; ``code_index`` picks the face
    inside a .ttc collection (DejaVu files hold one face)."""

    body: Path = SERIF
    label: Path = SERIF_BOLD
    code: Path = SANS
    code_index: int = SC_INDEX


@dataclass
class Case:
    """One generated file: the licence, its layout and the damage applied."""

    file: str
    seed: int
    layout: str  # landscape | portrait | colon (older edition: 名称：value)
    damage: tuple[str, ...]
    licence: Licence
    seal_over: str = "corner"  # corner | name | code
    note: str = ""
    split: str = "hard"  # hard (the first nine) | tune | heldback: see SPLIT_DIRS
    style: Style = field(default_factory=Style)


# --- page layout ------------------------------------------------------------------


def draw_spread(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, width: int,
                fnt: ImageFont.FreeTypeFont, fill=INK) -> None:
    """Draw the characters of a label spread over ``width`` (名        称)."""
    x, y = xy
    if len(text) == 1:
        draw.text((x, y), text, font=fnt, fill=fill)
        return
    char_w = fnt.getlength(text[0])
    step = (width - char_w) / (len(text) - 1)
    for i, ch in enumerate(text):
        draw.text((x + i * step, y), ch, font=fnt, fill=fill)


def wrap(text: str, fnt: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if fnt.getlength(line + ch) > width and line:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def draw_qr(img: Image.Image, rng: random.Random, box: tuple[int, int, int]) -> None:
    x0, y0, size = box
    cells = 25
    cell = size // cells
    draw = ImageDraw.Draw(img)
    for r in range(cells):
        for c in range(cells):
            finder = any(r0 <= r < r0 + 7 and c0 <= c < c0 + 7 for r0, c0 in
                         ((0, 0), (0, cells - 7), (cells - 7, 0)))
            if (finder and (r % 6 == 0 or c % 6 == 0 or 2 <= r % 18 <= 4 and 2 <= c % 18 <= 4)) or (
                not finder and rng.random() < 0.5
            ):
                draw.rectangle([x0 + c * cell, y0 + r * cell, x0 + (c + 1) * cell - 1,
                                y0 + (r + 1) * cell - 1], fill=INK)


def seal(size: int, text: str) -> Image.Image:
    """A red round seal (RGBA) with text along the rim and a star."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    draw.ellipse([6, 6, size - 6, size - 6], outline=RED + (210,), width=max(4, size // 45))
    r_star, pts = size * 0.12, []
    for i in range(10):
        r = r_star if i % 2 == 0 else r_star * 0.4
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    draw.polygon(pts, fill=RED + (210,))
    fnt = font(SANS_BOLD, int(size * 0.1))
    span = math.radians(250)
    for i, ch in enumerate(text):
        a = -math.pi / 2 - span / 2 + span * i / max(len(text) - 1, 1)
        tile = Image.new("RGBA", (int(size * 0.14),) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((tile.width / 2, tile.height / 2), ch, font=fnt,
                                  fill=RED + (210,), anchor="mm")
        tile = tile.rotate(-math.degrees(a) - 90, resample=Image.Resampling.BICUBIC)
        rr = size * 0.36
        img.alpha_composite(tile, (int(c + rr * math.cos(a) - tile.width / 2),
                                   int(c + rr * math.sin(a) - tile.height / 2)))
    return img


def render_page(lic: Licence, layout: str, rng: random.Random, seal_over: str,
                style: Style = Style(), marks: dict[str, tuple[float, float]] | None = None,
                ) -> Image.Image:
    """The licence drawn flat at 2000 px on its long side.

    ``marks`` (when given) receives the centres of the name and the code values as fractions
    of the page size, for damage aimed at a field (glare over the name).
    """
    portrait = layout == "portrait"
    w, h = (1414, 2000) if portrait else (2000, 1414)
    img = Image.new("RGB", (w, h), PAPER)
    draw = ImageDraw.Draw(img)
    draw.rectangle([30, 30, w - 31, h - 31], outline=GOLD, width=10)
    draw.rectangle([52, 52, w - 53, h - 53], outline=GOLD, width=3)
    size = 40 if portrait else 34
    small, body, label = font(SANS, 22), font(style.body, size), font(style.label, size)
    serial = "".join(rng.choice("0123456789") for _ in range(20))
    draw.text((w - 560, 90), f"编号 {serial}", font=small, fill=INK)
    qr = 200
    draw_qr(img, rng, (w - 360, 135, qr))
    draw.text((w - 450, 135 + qr + 12), "扫描二维码登录“国家企业信用信息公示系统”",
              font=font(SANS, 16), fill=INK)
    title = font(SERIF_BOLD, 150)
    title_y = 330 if portrait else 290
    draw.text((w / 2, title_y), "营业执照", font=title, fill=RED, anchor="mm")
    draw.text((w / 2, title_y + 130), "（副  本）", font=font(SERIF, 40), fill=INK, anchor="mm")
    code_font = ImageFont.truetype(str(style.code), 34, index=style.code_index)
    if layout == "portrait":
        draw.text((120, 150), "统一社会信用代码", font=font(SANS, 30), fill=INK)
        draw.text((120, 205), lic.code, font=code_font, fill=INK)
        code_at = (120 + code_font.getlength(lic.code) / 2, 222)
    elif layout == "colon":
        draw.text((w - 900, title_y + 190), f"统一社会信用代码：{lic.code}", font=code_font,
                  fill=INK)
        code_at = (w - 900 + code_font.getlength(f"统一社会信用代码：{lic.code}") * 0.7,
                   title_y + 207)
    else:
        draw.text((130, 160), "统一社会信用代码", font=font(SANS, 30), fill=INK)
        draw.text((420, 158), lic.code, font=code_font, fill=INK)
        code_at = (420 + code_font.getlength(lic.code) / 2, 175)
    fields = [("名称", lic.name), ("类型", lic.kind), (lic.person_label, lic.person)]
    right = [("注册资本", lic.capital), ("成立日期", lic.founded),
             ("营业期限", f"{lic.founded}至长期"), (lic.address_label, lic.address)]
    scope = ("经营范围", lic.scope)
    rows_y = title_y + (300 if layout == "colon" else 210)
    x0, width = (150, w - 300) if portrait else (160, 820)
    if layout == "colon":
        name_w = min(body.getlength(f"名称：{lic.name}"), width)
        name_at = (x0 + name_w / 2, rows_y + size / 2)
    else:
        name_at = (x0 + 210 + min(body.getlength(lic.name), width - 210) / 2, rows_y + size / 2)
    if marks is not None:
        marks.update(name=(name_at[0] / w, name_at[1] / h), code=(code_at[0] / w, code_at[1] / h))
    if portrait:
        draw_rows(draw, [*fields, *right[1:], right[0], scope], (150, rows_y), w - 300, body,
                  label, layout, line_gap=104)
    else:
        draw_rows(draw, [*fields, scope], (160, rows_y), 820, body, label, layout, line_gap=88)
        draw_rows(draw, right, (1080, rows_y), 780, body, label, layout, line_gap=88)
    foot = font(SANS, 20)
    draw.text((w / 2, h - 150), lic.registrar, font=font(SERIF_BOLD, 34), fill=INK, anchor="mm")
    draw.text((w / 2, h - 110), "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", font=foot,
              fill=INK, anchor="mm")
    draw.text((w / 2, h - 80), "国家市场监督管理总局监制", font=foot, fill=INK, anchor="mm")
    stamp = seal(330, lic.registrar[:12])
    where = {
        "corner": (w - 560, h - 520),
        "name": (330, rows_y - 150),
        "code": (300, 20 if not portrait else 40),
    }[seal_over]
    ink = Image.new("RGBA", img.size, (255, 255, 255, 0))
    ink.alpha_composite(stamp, where)
    paper = Image.new("RGB", img.size, "white")
    paper.paste(ink, mask=ink.getchannel("A"))
    return ImageChops.multiply(img, paper)  # stamp ink is translucent: print stays dark under it


def draw_rows(draw: ImageDraw.ImageDraw, rows: list[tuple[str, str]], origin: tuple[int, int],
              width: int, body: ImageFont.FreeTypeFont, label: ImageFont.FreeTypeFont, layout: str,
              line_gap: int) -> None:
    x, y = origin
    label_w = 170
    step = int(body.size * 1.45)
    for name, value in rows:
        if layout == "colon":
            text = f"{name}：{value}"
            lines = wrap(text, body, width)
            for i, line in enumerate(lines):
                draw.text((x + (0 if i == 0 else body.getlength(name + "：")), y), line,
                          font=body, fill=INK)
                y += step
            y += line_gap - step
            continue
        draw_spread(draw, (x, y), name, label_w, label)
        lines = wrap(value, body, width - label_w - 40)
        for line in lines:
            draw.text((x + label_w + 40, y), line, font=body, fill=INK)
            y += step
        y += line_gap - step


# --- damage -----------------------------------------------------------------------


def perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list:
    """Coefficients for Image.transform(PERSPECTIVE) mapping output ``dst`` to input ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, float), np.array(rhs, float)).tolist()


def table_background(size: tuple[int, int], rng: random.Random) -> Image.Image:
    w, h = size
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    grain = np.sin(x * 40 + np.sin(y * 7) * 3) * 12
    base = np.stack([120 + grain + 30 * y, 80 + grain * 0.7 + 20 * y, 50 + grain * 0.4], -1)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 3, (h, w, 1))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def photo(page: Image.Image, rng: random.Random, out_long: int = 1800, skew: float = 0.08,
          angle: float = 0.0, fill: float = 0.82) -> Image.Image:
    """The page photographed on a table: perspective, a small rotation, margins; the page
    takes ``fill`` of the frame."""
    w, h = page.size
    out_w, out_h = (out_long, int(out_long * 0.75)) if w >= h else (int(out_long * 0.75), out_long)
    scale = fill * min(out_w / w, out_h / h)
    cx, cy = out_w / 2, out_h / 2
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px, py = sx * w * scale / 2, sy * h * scale / 2
        px += rng.uniform(-skew, skew) * w * scale * 0.5
        py += rng.uniform(-skew, skew) * h * scale * 0.5
        a = math.radians(angle)
        corners.append((cx + px * math.cos(a) - py * math.sin(a),
                        cy + px * math.sin(a) + py * math.cos(a)))
    return on_table(page, corners, (out_w, out_h), rng)


def on_table(page: Image.Image, corners: list[tuple[float, float]], size: tuple[int, int],
             rng: random.Random) -> Image.Image:
    """The page warped so its corners (TL, TR, BR, BL) land on ``corners``, on a table."""
    w, h = page.size
    coeffs = perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], corners)
    warped = page.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", page.size, 255).transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                                     Image.Resampling.BILINEAR)
    background = table_background(size, rng)
    background.paste(warped, (0, 0), mask)
    return background


def side_on(page: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    """The page photographed from one side: the far edge shorter by ``strength``, foreshortened."""
    w, h = page.size
    out_w, out_h = (1800, 1350) if w >= h else (1350, 1800)
    scale = 0.9 * min(out_w / w, out_h / h)
    pw, ph = w * scale, h * scale
    x0, y0 = (out_w - pw * (1 - 0.4 * strength)) / 2, (out_h - ph) / 2
    near = [(x0, y0), (x0, y0 + ph)]
    far_x = x0 + pw * (1 - 0.4 * strength)
    far = [(far_x, y0 + ph * strength / 2), (far_x, y0 + ph * (1 - strength / 2))]
    corners = [near[0], far[0], far[1], near[1]]
    if rng.random() < 0.5:  # the near edge on the right instead
        corners = [(out_w - x, y) for x, y in (far[0], near[0], near[1], far[1])]
    return on_table(page, corners, (out_w, out_h), rng)


def defocus(img: Image.Image, radius: float) -> Image.Image:
    """Out-of-focus blur: the image convolved with a disc of ``radius`` pixels."""
    import cv2

    r = math.ceil(radius)
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    disc = np.clip(radius + 0.5 - np.hypot(x, y), 0, 1).astype(np.float32)
    return Image.fromarray(cv2.filter2D(np.asarray(img), -1, disc / disc.sum()))


def low_contrast(img: Image.Image, contrast: float) -> Image.Image:
    """A washed-out grey scan: grey levels squeezed to ``contrast`` of their range."""
    grey = np.asarray(img.convert("L"), float)
    squeezed = 200 + (grey - 250) * contrast
    return Image.fromarray(np.clip(squeezed, 0, 255).astype(np.uint8)).convert("RGB")


def crumple(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    """A crumpled page: a smooth random height field bends the print and shades the folds;
    a soft shadow falls across one side."""
    import cv2

    w, h = img.size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    height = np.zeros((h, w), np.float32)
    for _ in range(6):
        fx, fy = rng.uniform(1.5, 6) / w, rng.uniform(1.5, 6) / h
        height += np.sin(2 * math.pi * (fx * x + fy * y) + rng.uniform(0, 6.3)) / 6
    gy, gx = np.gradient(height)
    shift = amount * 9.0 / max(float(np.abs(gx).max()), float(np.abs(gy).max()), 1e-6)
    bent = cv2.remap(np.asarray(img), x + gx * shift, y + gy * shift, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    light = 1 + 0.18 * amount * (gx - gy) / max(float(np.abs(gx - gy).max()), 1e-6)
    shadow = Image.new("L", img.size, 0)
    a, b = rng.uniform(0.15, 0.45), rng.uniform(0.55, 0.9)
    ImageDraw.Draw(shadow).polygon([(0, 0), (a * w, 0), (b * w, h), (0, h)], fill=255)
    shadow = np.asarray(shadow.filter(ImageFilter.GaussianBlur(w * 0.02)), np.float32) / 255
    light = light * (1 - 0.45 * shadow)
    return Image.fromarray(np.clip(bent * light[..., None], 0, 255).astype(np.uint8))


def screen_photo(page: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of the page shown on a monitor: pixel grid and RGB stripes, photographed
    slightly turned and scaled, so the grid aliases into moiré."""
    w, h = page.size
    shown = page.resize((w * 3 // 5, h * 3 // 5), Image.Resampling.LANCZOS)
    pixels = np.asarray(shown, np.uint16).repeat(3, 0).repeat(3, 1)
    stripes = np.array([[255, 90, 90], [90, 255, 90], [90, 90, 255]], np.uint16)
    mask = np.tile(stripes[None, :, :], (pixels.shape[0], pixels.shape[1] // 3, 1))
    mask[2::3] = mask[2::3] * 2 // 5  # the dark gap between pixel rows
    lit = (pixels * mask // 255 + 25).clip(0, 255).astype(np.uint8)
    glow = Image.fromarray(lit)
    img = photo(glow, rng, skew=0.05, angle=rng.uniform(-4, 4))
    img = lighting(img, rng, 0.25)
    return noise(img, rng, 4)


def lighting(img: Image.Image, rng: random.Random, strength: float = 0.35) -> Image.Image:
    w, h = img.size
    gx = rng.uniform(-1, 1)
    gy = rng.uniform(-1, 1)
    x = np.linspace(-1, 1, w)[None, :]
    y = np.linspace(-1, 1, h)[:, None]
    shade = 1 - strength * (0.5 + 0.5 * (gx * x + gy * y) / max(abs(gx) + abs(gy), 1e-6))
    arr = np.asarray(img, float) * shade[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def glare(img: Image.Image, rng: random.Random, where: tuple[float, float],
          level: int = 215) -> Image.Image:
    """A soft white reflection (screen blend, ``level`` at its centre) at ``where`` (fractions
    of the size)."""
    w, h = img.size
    spot = Image.new("L", img.size, 0)
    cx, cy = where[0] * w, where[1] * h
    rx, ry = w * 0.16, h * 0.1
    ImageDraw.Draw(spot).ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=level)
    spot = spot.filter(ImageFilter.GaussianBlur(w * 0.03))
    return ImageChops.screen(img, Image.merge("RGB", (spot, spot, spot)))


def noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    gen = np.random.default_rng(rng.randrange(1 << 30))
    arr = np.asarray(img, float) + gen.normal(0, sigma, (img.height, img.width, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def apply_damage(page: Image.Image, case: Case, rng: random.Random,
                 marks: dict[str, tuple[float, float]] | None = None) -> tuple[Image.Image, int]:
    """Apply ``case.damage`` in order; returns the image and the JPEG quality to save with.

    ``marks`` are the field centres :func:`render_page` reported (for glare aimed at a field).
    """
    marks = marks or {}
    img, quality = page, 82
    for step in case.damage:
        kind, _, arg = step.partition(":")
        if kind == "photo":
            img = photo(img, rng, skew=float(arg or 0.08), angle=rng.uniform(-6, 6))
        elif kind == "far":  # a distant photo: the page takes ``arg`` of the frame
            img = photo(img, rng, skew=0.04, angle=rng.uniform(-3, 3), fill=float(arg))
        elif kind == "sideon":
            img = side_on(img, rng, float(arg))
        elif kind == "defocus":
            img = defocus(img, float(arg))
        elif kind == "contrast":
            img = low_contrast(img, float(arg))
        elif kind == "crumple":
            img = crumple(img, rng, float(arg))
        elif kind == "screen":
            img = screen_photo(img, rng)
        elif kind == "light":
            img = lighting(img, rng, float(arg or 0.35))
        elif kind == "glare" and arg.startswith(("name:", "code:")):  # glare:name:215
            where, _, level = arg.partition(":")
            img = glare(img, rng, marks[where], int(level))
        elif kind == "glare":
            x, y = (float(v) for v in arg.split(","))
            img = glare(img, rng, (x, y))
        elif kind == "blur":
            img = img.filter(ImageFilter.GaussianBlur(float(arg)))
        elif kind == "noise":
            img = noise(img, rng, float(arg))
        elif kind == "resize":
            ratio = int(arg) / max(img.size)
            img = img.resize((round(img.width * ratio), round(img.height * ratio)),
                             Image.Resampling.LANCZOS)
        elif kind == "rotate":
            img = img.rotate(-int(arg), expand=True, fillcolor=(90, 80, 70))  # clockwise
        elif kind == "jpeg":
            quality = int(arg)
        else:
            raise ValueError(step)
    return img, quality


# --- the cases ----------------------------------------------------------------------

SCOPE = ("技术开发、技术咨询、技术服务；软件开发；信息系统集成服务；数据处理和存储支持服务；"
         "销售计算机软硬件及辅助设备。（依法须经批准的项目，经相关部门批准后方可开展经营活动）")


def cases() -> list[Case]:
    rng = random.Random(20240611)

    def code(region: str, registrar: str = "91") -> str:
        return make_credit_code(rng, region, registrar)

    def lic(name: str, region: str, kind: str = "有限责任公司（自然人投资或控股）",
            **kw: str) -> Licence:
        base = {
            "name": name,
            "code": code(region, kw.pop("registrar_code", "91")),
            "kind": kind,
            "person": kw.pop("person", "李思远"),
            "capital": "人民币叁佰万元整",
            "founded": "2020年09月16日",
            "address": kw.pop("address", "北京市海淀区中关村大街27号8层801"),
            "scope": SCOPE,
            "registrar": kw.pop("registrar", "北京市海淀区市场监督管理局"),
        }
        return Licence(**base, **kw)

    return [
        Case("h01_phone_perspective.jpg", 11, "landscape", ("photo:0.10", "light:0.3", "jpeg:80"),
             lic("北京星图远航信息技术有限公司", "110108"), note="phone photo, perspective, shade"),
        Case("h02_glare.jpg", 12, "landscape", ("glare:0.33,0.48", "glare:0.7,0.3", "jpeg:82"),
             lic("天津滨海蓝湾物流有限公司", "120116", registrar="天津市滨海新区市场监督管理局",
                 address="天津市滨海新区临港经济区渤海十路1号"),
             note="two glare spots, one over the name row"),
        Case("h03_seal_over_name.jpg", 13, "landscape", ("jpeg:82",),
             lic("武汉楚天光谷生物医药研究院有限公司", "420106",
                 registrar="武汉市武昌区市场监督管理局",
                 address="武汉市武昌区中北路86号汉街总部国际B座"),
             seal_over="name", note="red seal stamped across the name"),
        Case("h04_jpeg_q12.jpg", 14, "portrait", ("resize:1500", "jpeg:12"),
             lic("厦门鹭岛海韵茶业有限公司", "350203", registrar="厦门市思明区市场监督管理局",
                 address="厦门市思明区鹭江道8号"), note="heavy JPEG compression, portrait"),
        Case("h05_small_text.jpg", 15, "landscape", ("resize:1050", "jpeg:85"),
             lic("重庆两江智造汽车配件有限公司", "500112", registrar="重庆市渝北区市场监督管理局"),
             note="whole page 1050 px wide: text about 12 px high"),
        Case("h06_rot90_portrait.jpg", 16, "portrait", ("photo:0.05", "rotate:90", "jpeg:80"),
             lic("苏州工业园区博思管理咨询合伙企业（有限合伙）", "320506",
                 kind="有限合伙企业", person="苏州博思投资管理有限公司（委派代表：陈立）",
                 person_label="执行事务合伙人", address_label="主要经营场所",
                 registrar="苏州工业园区市场监督管理局"),
             note="photo turned 90° clockwise; partnership whose partner is a company (decoy)"),
        Case("h07_rot270_colon.jpg", 17, "colon", ("rotate:270", "blur:1.0", "jpeg:80"),
             lic("广州珠江新城明德律师事务所", "440100", registrar_code="31",
                 kind="普通合伙", person="周明德", person_label="负责人",
                 registrar="广州市司法局"),
             note="older edition with 名称：value, turned 90° counter-clockwise"),
        Case("h08_upside_photo_portrait.jpg", 18, "portrait",
             ("photo:0.06", "rotate:180", "noise:8", "jpeg:78"),
             lic("西安曲江新区文化旅游（集团）演艺有限公司大唐不夜城分公司", "610113",
                 kind="有限责任公司分公司（国有控股）", person="王海燕", person_label="负责人",
                 address_label="营业场所", registrar="西安曲江新区市场监督管理局"),
             note="upside-down phone photo, branch with a long name that wraps"),
        Case("h09_seal_over_code_dark.jpg", 19, "portrait",
             ("light:0.5", "blur:1.2", "noise:6", "resize:1400", "jpeg:70"),
             lic("长沙麓谷云端网络科技股份有限公司", "430104",
                 kind="股份有限公司（非上市、自然人投资或控股）",
                 registrar="长沙市岳麓区市场监督管理局"),
             seal_over="code", note="seal over the credit code, dark, blurred"),
    ]


# The broader set (issue 14): each category of damage three times, with other names, codes,
# divisions, editions, fonts and seeds. Cases alternate between the tuning half and the
# held-back half in the order listed (a deterministic split, written into truth.json); the
# pipeline is tuned on the first only.
CATEGORIES: list[tuple[str, tuple[tuple[str, ...], ...], str]] = [
    ("perspective", (("photo:0.3", "light:0.3", "jpeg:78"), ("photo:0.32", "jpeg:80"),
                     ("photo:0.28", "light:0.4", "resize:1500", "jpeg:75")),
     "strong perspective photo"),
    ("sideon800", (("sideon:0.5", "light:0.25", "resize:800", "jpeg:80"),
                   ("sideon:0.55", "resize:800", "jpeg:82"),
                   ("sideon:0.45", "light:0.3", "resize:800", "jpeg:78")),
     "side-on photo downscaled to 800 px"),
    ("glarename", (("glare:name:230", "photo:0.06", "jpeg:80"),
                   ("glare:name:236", "photo:0.05", "jpeg:82"),
                   ("glare:name:225", "light:0.2", "photo:0.07", "jpeg:80")),
     "glare across the name"),
    ("glarecode", (("glare:code:230", "photo:0.06", "jpeg:80"),
                   ("glare:code:236", "photo:0.05", "jpeg:82"),
                   ("glare:code:225", "light:0.2", "photo:0.07", "jpeg:80")),
     "glare across the code"),
    ("jpeg25", (("photo:0.06", "light:0.2", "resize:1300", "jpeg:25"), ("resize:1300", "jpeg:25"),
                ("photo:0.08", "noise:4", "resize:1400", "jpeg:25")), "JPEG quality 25"),
    ("defocus", (("photo:0.06", "resize:1400", "defocus:2.5", "jpeg:80"),
                 ("photo:0.05", "resize:1400", "defocus:2.5", "jpeg:82"),
                 ("resize:1500", "defocus:2.5", "jpeg:80")), "defocus blur, radius 2.5 px"),
    ("lowcontrast", (("contrast:0.22", "noise:4", "resize:1400", "jpeg:30"),
                     ("contrast:0.2", "noise:3", "resize:1400", "jpeg:30"),
                     ("contrast:0.25", "noise:5", "resize:1500", "jpeg:30")),
     "low-contrast grey scan, JPEG quality 30"),
    ("sealcode", (("photo:0.06", "light:0.3", "resize:1500", "jpeg:75"), ("photo:0.05", "jpeg:80"),
                  ("light:0.3", "blur:1.0", "resize:1400", "jpeg:75")), "seal over the code"),
    ("crumpled", (("crumple:1.5", "photo:0.05", "jpeg:78"), ("crumple:1.6", "photo:0.06", "jpeg:78"),
                  ("crumple:1.4", "resize:1500", "jpeg:80")), "crumpled page with a shadow"),
    ("rot15", (("resize:1400", "rotate:15", "jpeg:35"), ("resize:1400", "rotate:-15", "jpeg:35"),
               ("resize:1400", "rotate:15", "noise:3", "jpeg:35")), "15° rotation, JPEG quality 35"),
    ("sideways", (("photo:0.08", "resize:1500", "rotate:90", "jpeg:80"),
                  ("photo:0.08", "resize:1500", "rotate:270", "jpeg:80"),
                  ("resize:1400", "rotate:90", "light:0.3", "jpeg:78")), "sideways (90°) photo"),
    ("moire", (("screen", "jpeg:78"), ("screen", "jpeg:80"), ("screen", "resize:1500", "jpeg:78")),
     "phone photo of a screen (moiré)"),
    ("distant", (("far:0.34", "jpeg:82"), ("far:0.33", "light:0.2", "jpeg:82"),
                 ("far:0.35", "noise:3", "jpeg:80")), "photo from a distance, text about 11 px"),
    ("moderate", (("photo:0.1", "light:0.35", "noise:5", "resize:1500", "jpeg:72"),
                  ("photo:0.12", "light:0.25", "jpeg:75"),
                  ("photo:0.09", "light:0.3", "blur:0.8", "resize:1500", "jpeg:72")),
     "moderate phone photo"),
]

# Invented units: name, division (GB/T 2260; 110104 宣武区 and 310108 闸北区 were merged away
# in 2010 and 2015, their licences are still valid), the registrar, the registration
# authority + category, and the address.
UNITS: list[tuple[str, str, str, str, str]] = [
    ("北京宣南古籍文化传播有限公司", "110104", "北京市宣武区工商行政管理局", "91", "北京市宣武区广安门内大街6号"),
    ("上海闸北数码港网络科技有限公司", "310108", "上海市闸北区市场监督管理局", "91", "上海市闸北区共和新路1898号"),
    ("东莞市松山湖智联电子科技有限公司", "441900", "东莞市市场监督管理局", "91", "广东省东莞市松山湖园区工业南路6号"),
    ("中山市小榄五金制品有限公司", "442000", "中山市市场监督管理局", "91", "中山市小榄镇工业大道南38号"),
    ("北京朝阳望京医疗器械股份有限公司", "110105", "北京市朝阳区市场监督管理局", "91", "北京市朝阳区望京街9号"),
    ("北京丰台花乡苗木种植专业合作社", "110106", "北京市丰台区市场监督管理局", "93", "北京市丰台区花乡草桥村"),
    ("上海徐汇滨江艺术设计工作室", "310104", "上海市徐汇区市场监督管理局", "92", "上海市徐汇区龙腾大道2555号"),
    ("上海浦东陆家嘴融资租赁有限公司", "310115", "上海市浦东新区市场监督管理局", "91", "上海市浦东新区世纪大道100号"),
    ("南京玄武湖畔餐饮管理有限公司", "320102", "南京市玄武区市场监督管理局", "91", "南京市玄武区玄武巷1号"),
    ("无锡滨湖太湖湾旅游发展有限公司", "320211", "无锡市滨湖区市场监督管理局", "91", "无锡市滨湖区环湖路88号"),
    ("杭州滨江云栖3D打印科技有限公司", "330108", "杭州市滨江区市场监督管理局", "91", "杭州市滨江区网商路699号"),
    ("宁波海曙月湖律师事务所", "330203", "宁波市司法局", "31", "宁波市海曙区偃月街18号"),
    ("合肥蜀山量子信息研究院有限公司", "340104", "合肥市蜀山区市场监督管理局", "91", "合肥市蜀山区望江西路5089号"),
    ("福州鼓楼三坊七巷茶艺经营部", "350102", "福州市鼓楼区市场监督管理局", "92", "福州市鼓楼区南后街20号"),
    ("厦门湖里跨境电子商务有限公司", "350206", "厦门市湖里区市场监督管理局", "91", "厦门市湖里区悦华路148号"),
    ("济南历下泉城会计师事务所（普通合伙）", "370102", "济南市历下区市场监督管理局", "91", "济南市历下区泉城路180号"),
    ("青岛市南海洋生物科技股份有限公司", "370202", "青岛市市南区市场监督管理局", "91", "青岛市市南区香港中路40号"),
    ("郑州金水中原数据服务有限公司", "410105", "郑州市金水区市场监督管理局", "91", "郑州市金水区农业路72号"),
    ("武汉洪山光谷激光设备有限公司", "420111", "武汉市洪山区市场监督管理局", "91", "武汉市洪山区珞喻路1037号"),
    ("长沙芙蓉湘绣文化创意有限公司", "430102", "长沙市芙蓉区市场监督管理局", "91", "长沙市芙蓉区五一大道368号"),
    ("广州荔湾西关老字号食品有限公司", "440103", "广州市荔湾区市场监督管理局", "91", "广州市荔湾区上下九路58号"),
    ("广州越秀北京路商贸有限公司第一分公司", "440104", "广州市越秀区市场监督管理局", "91", "广州市越秀区北京路238号"),
    ("广州天河珠江投资管理合伙企业（有限合伙）", "440106", "广州市天河区市场监督管理局", "91", "广州市天河区珠江东路16号"),
    ("深圳福田华强北电子有限公司", "440304", "深圳市市场监督管理局福田监管局", "91", "深圳市福田区华强北路1019号"),
    ("深圳南山前沿人工智能研究院", "440305", "深圳市市场监督管理局南山监管局", "52", "深圳市南山区科技园南区"),
    ("南宁青秀东盟国际物流有限公司", "450103", "南宁市青秀区市场监督管理局", "91", "南宁市青秀区民族大道136号"),
    ("重庆渝中解放碑百货有限责任公司", "500103", "重庆市渝中区市场监督管理局", "91", "重庆市渝中区民权路28号"),
    ("成都锦江春熙路美妆有限公司", "510104", "成都市锦江区市场监督管理局", "91", "成都市锦江区春熙路西段8号"),
    ("成都武侯锦里民俗文化有限公司", "510107", "成都市武侯区市场监督管理局", "91", "成都市武侯区武侯祠大街231号"),
    ("昆明五华滇池花卉有限公司", "530102", "昆明市五华区市场监督管理局", "91", "昆明市五华区东风西路11号"),
    ("西安莲湖回坊清真食品有限公司", "610104", "西安市莲湖区市场监督管理局", "91", "西安市莲湖区北院门144号"),
    ("天津和平五大道文旅发展有限公司", "120101", "天津市和平区市场监督管理局", "91", "天津市和平区马场道66号"),
    ("北京东城王府井百货商行", "110101", "北京市东城区市场监督管理局", "92", "北京市东城区王府井大街255号"),
    ("北京西城金融街资产管理有限公司", "110102", "北京市西城区市场监督管理局", "91", "北京市西城区金融大街7号"),
    ("北京昌平未来科学城能源科技有限公司", "110114", "北京市昌平区市场监督管理局", "91", "北京市昌平区未来科学城南区"),
    ("上海黄浦外滩建筑装饰工程有限公司", "310101", "上海市黄浦区市场监督管理局", "91", "上海市黄浦区中山东一路18号"),
    ("上海长宁虹桥航空服务有限公司", "310105", "上海市长宁区市场监督管理局", "91", "上海市长宁区虹桥路2550号"),
    ("上海闵行紫竹半导体有限公司", "310112", "上海市闵行区市场监督管理局", "91", "上海市闵行区东川路555号"),
    ("南京鼓楼江北新区建设有限公司", "320106", "南京市鼓楼区市场监督管理局", "91", "南京市鼓楼区中山北路88号"),
    ("苏州虎丘婚纱摄影有限公司", "320505", "苏州市虎丘区市场监督管理局", "91", "苏州市虎丘区虎丘路58号"),
    ("杭州上城河坊街丝绸有限公司", "330102", "杭州市上城区市场监督管理局", "91", "杭州市上城区河坊街90号"),
    ("杭州西湖龙井茶叶专业合作社", "330106", "杭州市西湖区市场监督管理局", "93", "杭州市西湖区龙井村"),
]

KINDS = {
    "91": "有限责任公司（自然人投资或控股）",
    "92": "个体工商户",
    "93": "农民专业合作社",
    "31": "普通合伙",
    "52": "社会服务机构",
}
PEOPLE = ("张海涛", "王丽娟", "刘建国", "陈思远", "杨晓燕", "赵明轩", "黄志强", "周婷婷", "吴国栋",
          "郑雅文", "孙立新", "马文博", "朱慧敏", "胡振华")
STYLES = (
    Style(),
    Style(body=SANS, label=SANS_BOLD),
    Style(body=SERIF, label=SANS_BOLD, code=SERIF, code_index=SC_INDEX),
    Style(body=SANS, label=SERIF_BOLD,
          code=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), code_index=0),
)
LAYOUTS = ("landscape", "portrait", "colon")


def broad_cases() -> list[Case]:
    """The 42 cases of the broader set, alternately in the tuning and the held-back half."""
    rng = random.Random(20261130)
    found = []
    for k, (category, recipes, note) in enumerate(CATEGORIES):
        for j, damage in enumerate(recipes):
            i = 3 * k + j
            name, region, registrar, registrar_code, address = UNITS[i]
            kind = KINDS[registrar_code]
            if name.endswith("股份有限公司"):
                kind = "股份有限公司（非上市、自然人投资或控股）"
            elif name.endswith("分公司"):
                kind = "有限责任公司分公司（自然人投资或控股）"
            elif name.endswith("（有限合伙）"):
                kind = "有限合伙企业"
            elif name.endswith("（普通合伙）"):
                kind = "普通合伙企业"
            code = make_credit_code(rng, region, registrar_code, numeric_org=rng.random() < 0.3)
            licence = Licence(
                name=name, code=code, kind=kind, person=PEOPLE[i % len(PEOPLE)],
                capital=rng.choice(("人民币伍佰万元整", "人民币壹仟万元整", "人民币伍拾万元整")),
                founded=f"{rng.randint(2003, 2024)}年{rng.randint(1, 12):02d}月{rng.randint(1, 28):02d}日",
                address=address, scope=SCOPE, registrar=registrar,
                person_label="负责人" if registrar_code == "31" else "法定代表人",
            )
            split = "tune" if i % 2 == 0 else "heldback"
            found.append(Case(
                f"{'t' if split == 'tune' else 'b'}{i + 1:02d}_{category}.jpg", 100 + i,
                LAYOUTS[(k + j) % 3] if category != "sideways" else LAYOUTS[j % 2], damage,
                licence, seal_over="code" if category == "sealcode" else "corner", note=note,
                split=split, style=STYLES[(i * 3 + k) % len(STYLES)],
            ))
    return found


def generate(out: Path = DEFAULT_OUT) -> dict[str, dict[str, str]]:
    """Write every case into ``out``/licences_hard, licences_tune and licences_heldback, each
    with its truth.json; returns the truth of all files."""
    truths: dict[str, dict[str, dict[str, str]]] = {split: {} for split in SPLIT_DIRS}
    for case in [*cases(), *broad_cases()]:
        rng = random.Random(case.seed)
        marks: dict[str, tuple[float, float]] = {}
        page = render_page(case.licence, case.layout, rng, case.seal_over, case.style, marks)
        img, quality = apply_damage(page, case, rng, marks)
        directory = out / SPLIT_DIRS[case.split]
        directory.mkdir(parents=True, exist_ok=True)
        img.save(directory / case.file, "JPEG", quality=quality, optimize=True)
        truths[case.split][case.file] = {"name": case.licence.name,
                                         "credit_code": case.licence.code,
                                         "note": case.note, "split": case.split}
    for split, truth in truths.items():
        (out / SPLIT_DIRS[split] / "truth.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {file: fields for truth in truths.values() for file, fields in truth.items()}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    for file, fields in generate(target).items():
        print(fields["split"], file, fields["name"], fields["credit_code"])
