"""A letter's share card: the 1200x630 PNG that link previews show
(`og:image`), with the letter's title, its verified count and the site's
name, and nothing else about anyone.

Drawn with Pillow in a real TrueType font (Debian's fonts-dejavu-core, else
Pillow's own); long titles wrap, and a title too long for the card ends in
an ellipsis.  `letters.views.meta.share_card` serves it."""

from __future__ import annotations

import io
from pathlib import Path

from django.utils.formats import number_format
from django.utils.translation import ngettext
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
SITE_NAME = "Undersigned"

BACKGROUND = (251, 250, 247)  # site.css --bg
TEXT = (31, 35, 40)  # --text
MUTED = (84, 93, 104)  # --muted
ACCENT = (29, 92, 150)  # --accent

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

# Title sizes tried from the largest down, each with the lines it may take.
TITLE_SIZES = ((68, 3), (58, 4), (50, 5))
TITLE_TOP = 170
TITLE_BOTTOM = HEIGHT - 170

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(path: Path, size: int) -> Font:
    """`path` at `size` pixels, or Pillow's built-in font at that size
    where the Debian fonts are not installed."""
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def wrap(text: str, face: Font, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels, broken between words
    (inside a word only when the word alone is wider)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while face.getlength(word) > width:  # a word wider than the card
            cut = len(word)
            while cut > 1 and face.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _fit_title(title: str, width: int) -> tuple[Font, list[str]]:
    """The largest title size whose lines fit; else the smallest size, its
    last line ending in an ellipsis."""
    for size, max_lines in TITLE_SIZES:
        face = font(BOLD, size)
        lines = wrap(title, face, width)
        if len(lines) <= max_lines:
            return face, lines
    lines = lines[:max_lines]
    last = lines[-1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    lines[-1] = last.rstrip(" ,;:.-–—") + "…"
    return face, lines


def count_text(confirmed: int) -> str:
    """The same words as the letter page's count."""
    return ngettext("%(num)s verified signature", "%(num)s verified signatures", confirmed) % {
        "num": number_format(confirmed, force_grouping=True)
    }


def render_card(*, title: str, confirmed: int) -> bytes:
    """The card as PNG bytes, in the active language."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 16), fill=ACCENT)
    draw.text((MARGIN, 64), SITE_NAME, font=font(BOLD, 40), fill=ACCENT)

    text_width = WIDTH - 2 * MARGIN
    face, lines = _fit_title(" ".join(title.split()), text_width)
    size = int(face.size) if isinstance(face, ImageFont.FreeTypeFont) else 50
    step = int(size * 1.2)
    top = TITLE_TOP + max(0, (TITLE_BOTTOM - TITLE_TOP - step * len(lines)) // 2)
    for n, line in enumerate(lines):
        draw.text((MARGIN, top + n * step), line, font=face, fill=TEXT)

    draw.line((MARGIN, HEIGHT - 130, WIDTH - MARGIN, HEIGHT - 130), fill=(213, 217, 222), width=2)
    draw.text((MARGIN, HEIGHT - 110), count_text(confirmed), font=font(BOLD, 44), fill=MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
