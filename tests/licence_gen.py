"""Generate synthetic business licences (营业执照) that are hard to read, for the OCR tests.

Run ``python tests/licence_gen.py [OUT_DIR]`` (default ``tests/fixtures/licences_hard``) from the
repository root. Needs Pillow, numpy and a CJK font (Debian ``fonts-noto-cjk``). Every case has
a fixed seed, so the output is the same on every run with the same Pillow and font. Companies,
people and addresses are invented; every 统一社会信用代码 passes the GB 32100 check character.
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
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "licences_hard"

PAPER = (250, 245, 232)
INK = (30, 30, 30)
RED = (200, 30, 35)
GOLD = (180, 130, 70)


def font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=SC_INDEX)


def make_credit_code(rng: random.Random, region: str, registrar: str = "91") -> str:
    """A random code with a valid check character (organisation part ``MA`` + 7)."""
    body = registrar + region + "MA" + "".join(rng.choice(CREDIT_CODE_ALPHABET) for _ in range(7))
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


def render_page(lic: Licence, layout: str, rng: random.Random, seal_over: str) -> Image.Image:
    """The licence drawn flat at 2000 px on its long side."""
    portrait = layout == "portrait"
    w, h = (1414, 2000) if portrait else (2000, 1414)
    img = Image.new("RGB", (w, h), PAPER)
    draw = ImageDraw.Draw(img)
    draw.rectangle([30, 30, w - 31, h - 31], outline=GOLD, width=10)
    draw.rectangle([52, 52, w - 53, h - 53], outline=GOLD, width=3)
    size = 40 if portrait else 34
    small, body, label = font(SANS, 22), font(SERIF, size), font(SERIF_BOLD, size)
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
    code_font = font(SANS, 34)
    if layout == "portrait":
        draw.text((120, 150), "统一社会信用代码", font=font(SANS, 30), fill=INK)
        draw.text((120, 205), lic.code, font=code_font, fill=INK)
    elif layout == "colon":
        draw.text((w - 900, title_y + 190), f"统一社会信用代码：{lic.code}", font=code_font,
                  fill=INK)
    else:
        draw.text((130, 160), "统一社会信用代码", font=font(SANS, 30), fill=INK)
        draw.text((420, 158), lic.code, font=code_font, fill=INK)
    fields = [("名称", lic.name), ("类型", lic.kind), (lic.person_label, lic.person)]
    right = [("注册资本", lic.capital), ("成立日期", lic.founded),
             ("营业期限", f"{lic.founded}至长期"), (lic.address_label, lic.address)]
    scope = ("经营范围", lic.scope)
    rows_y = title_y + (300 if layout == "colon" else 210)
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
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, (h, w, 1))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def photo(page: Image.Image, rng: random.Random, out_long: int = 1800, skew: float = 0.08,
          angle: float = 0.0) -> Image.Image:
    """The page photographed on a table: perspective, a small rotation, margins."""
    w, h = page.size
    out_w, out_h = (out_long, int(out_long * 0.75)) if w >= h else (int(out_long * 0.75), out_long)
    scale = 0.82 * min(out_w / w, out_h / h)
    cx, cy = out_w / 2, out_h / 2
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px, py = sx * w * scale / 2, sy * h * scale / 2
        px += rng.uniform(-skew, skew) * w * scale * 0.5
        py += rng.uniform(-skew, skew) * h * scale * 0.5
        a = math.radians(angle)
        corners.append((cx + px * math.cos(a) - py * math.sin(a),
                        cy + px * math.sin(a) + py * math.cos(a)))
    coeffs = perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], corners)
    warped = page.transform((out_w, out_h), Image.Transform.PERSPECTIVE, coeffs,
                            Image.Resampling.BICUBIC)
    mask = Image.new("L", page.size, 255).transform((out_w, out_h), Image.Transform.PERSPECTIVE,
                                                     coeffs, Image.Resampling.BILINEAR)
    background = table_background((out_w, out_h), rng)
    background.paste(warped, (0, 0), mask)
    return background


def lighting(img: Image.Image, rng: random.Random, strength: float = 0.35) -> Image.Image:
    w, h = img.size
    gx = rng.uniform(-1, 1)
    gy = rng.uniform(-1, 1)
    x = np.linspace(-1, 1, w)[None, :]
    y = np.linspace(-1, 1, h)[:, None]
    shade = 1 - strength * (0.5 + 0.5 * (gx * x + gy * y) / max(abs(gx) + abs(gy), 1e-6))
    arr = np.asarray(img, float) * shade[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def glare(img: Image.Image, rng: random.Random, where: tuple[float, float]) -> Image.Image:
    """A soft white reflection (screen blend) centred at ``where`` (fractions of the size)."""
    w, h = img.size
    spot = Image.new("L", img.size, 0)
    cx, cy = where[0] * w, where[1] * h
    rx, ry = w * 0.16, h * 0.1
    ImageDraw.Draw(spot).ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=215)
    spot = spot.filter(ImageFilter.GaussianBlur(w * 0.03))
    return ImageChops.screen(img, Image.merge("RGB", (spot, spot, spot)))


def noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    gen = np.random.default_rng(rng.randrange(1 << 30))
    arr = np.asarray(img, float) + gen.normal(0, sigma, (img.height, img.width, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def apply_damage(page: Image.Image, case: Case, rng: random.Random) -> tuple[Image.Image, int]:
    """Apply ``case.damage`` in order; returns the image and the JPEG quality to save with."""
    img, quality = page, 82
    for step in case.damage:
        kind, _, arg = step.partition(":")
        if kind == "photo":
            img = photo(img, rng, skew=float(arg or 0.08), angle=rng.uniform(-6, 6))
        elif kind == "light":
            img = lighting(img, rng, float(arg or 0.35))
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
            img = img.rotate(-int(arg), expand=True)  # clockwise, in degrees
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
             lic("苏州工业园区博思管理咨询合伙企业（有限合伙）", "320594",
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


def generate(out: Path = DEFAULT_OUT) -> dict[str, dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, str]] = {}
    for case in cases():
        rng = random.Random(case.seed)
        page = render_page(case.licence, case.layout, rng, case.seal_over)
        img, quality = apply_damage(page, case, rng)
        img.save(out / case.file, "JPEG", quality=quality, optimize=True)
        truth[case.file] = {"name": case.licence.name, "credit_code": case.licence.code,
                            "note": case.note}
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
    return truth


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    for file, fields in generate(target).items():
        print(file, fields["name"], fields["credit_code"])
