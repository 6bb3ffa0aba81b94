"""Layout checks of a built report, read with poppler: the text boxes of ``pdftotext -bbox``
and the ink of ``pdftoppm``.

:func:`page_boxes` reads every word's box per page and, where the PDF is given, how far down
each page carries ink (text, figures, rules); :func:`layout_problems` names the pages where
text runs into the footer (a word other than the page number below the top of the page
number's line), the pages less than half full (the vertical extent of their ink over the
text height) that are neither the last page nor followed by a page that opens a section, and
the pages of floats alone (their ink starts well below the top) less than half full.
"""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from repro.errors import BadInput

MIN_FILL = 0.5  # a page's text must span at least half the text height
# A short page before a new section is the end of the text, which starts at the top; a page
# whose ink starts lower than this share of the text height is a page of floats alone
# (LaTeX centres those), and a float page less than half full is a problem anywhere.
AT_TOP = 0.1
TOP, BOTTOM = 60.0, 60.0  # the margins (pt) the fill is measured within: text height
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float  # top (pdftotext's y grows downwards)
    x1: float
    y1: float  # bottom
    text: str


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    words: tuple[Word, ...]
    ink: tuple[float, float] | None = None  # top and bottom of the ink above the footer (pt)


def parse_boxes(text: str) -> list[Page]:
    """The pages of ``pdftotext -bbox`` output (XHTML) with their words' boxes."""
    pages = []
    for i, (w, h, body) in enumerate(_PAGE.findall(text), start=1):
        words = tuple(
            Word(float(a), float(b), float(c), float(d), html.unescape(t))
            for a, b, c, d, t in _WORD.findall(body)
        )
        pages.append(Page(i, float(w), float(h), words))
    return pages


def _run(argv: list[str], pdf: Path, text: bool = True):
    try:
        return subprocess.run(argv, capture_output=True, text=text, check=True).stdout
    except FileNotFoundError:
        raise BadInput(f"{argv[0]} not found: the layout check needs poppler-utils") from None
    except subprocess.CalledProcessError as e:
        raise BadInput(f"{argv[0]} could not read {pdf}") from e


DPI = 36  # the resolution the ink is measured at (half a point is far finer than a line)


def ink_extent(pdf: Path, page: Page) -> tuple[float, float] | None:
    """Top and bottom (pt) of the non-white rows of ``page`` above its page number's line,
    rendered at :data:`DPI` in grey (None for a blank page)."""
    import numpy as np

    raw = _run(["pdftoppm", "-f", str(page.number), "-l", str(page.number), "-r", str(DPI),
                "-gray", str(pdf)], pdf, text=False)  # fmt: skip
    img = _pgm(raw)
    scale = page.height / img.shape[0]
    foot = _footer(page)
    limit = img.shape[0] if foot is None else int((foot.y0 - 2) / scale)
    rows = np.flatnonzero((img[:limit] < 200).any(axis=1))
    return None if rows.size == 0 else (rows[0] * scale, (rows[-1] + 1) * scale)


def _pgm(raw: bytes):
    """A binary PGM (P5) image as uint8 (rows, cols)."""
    import numpy as np

    parts = raw.split(maxsplit=4)  # b'P5', width, height, maxval, pixels
    width, height = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: width * height], dtype=np.uint8).reshape(height, width)


def page_boxes(pdf: Path, with_ink: bool = True) -> list[Page]:
    """Every page of ``pdf`` with its words' boxes and (``with_ink``) its ink's extent;
    BadInput if poppler is missing."""
    pages = parse_boxes(_run(["pdftotext", "-bbox", str(pdf), "-"], pdf))
    if not with_ink:
        return pages
    return [Page(p.number, p.width, p.height, p.words, ink_extent(pdf, p)) for p in pages]


def _footer(page: Page) -> Word | None:
    """The page number: the lowest word that spells the page's number."""
    found = [w for w in page.words if w.text == str(page.number)]
    return max(found, key=lambda w: w.y1) if found else None


def _body(page: Page) -> list[Word]:
    foot = _footer(page)
    return [w for w in page.words if w is not foot]


def opens_section(page: Page) -> bool:
    """Whether the page's first line is a numbered section heading ('4 Ablations') or an
    unnumbered one the report starts anew (References, Appendix)."""
    body = sorted(_body(page), key=lambda w: (round(w.y0), w.x0))
    if len(body) < 2:
        return False
    first, second = body[0], body[1]
    same_line = abs(first.y0 - second.y0) < 3
    numbered = first.text.isdigit() and same_line and second.text[:1].isupper()
    return numbered or first.text in ("References", "Appendix", "Contents")


def fill(page: Page) -> float:
    """The vertical extent of the page's ink (:attr:`Page.ink`; without it, of its text, the
    page number left out) over its text height (the page less :data:`TOP` and
    :data:`BOTTOM`): 0 for an empty page."""
    if page.ink is not None:
        top, bottom = page.ink
    else:
        body = _body(page)
        if not body:
            return 0.0
        top, bottom = min(w.y0 for w in body), max(w.y1 for w in body)
    return (bottom - top) / (page.height - TOP - BOTTOM)


def starts_at_top(page: Page) -> bool:
    """Whether the page's ink (or text) starts within AT_TOP of the text height below the
    top margin: running text does, a centred page of floats does not."""
    body = _body(page)
    if page.ink is not None:
        top = page.ink[0]
    elif body:
        top = min(w.y0 for w in body)
    else:
        return False
    return top - TOP <= AT_TOP * (page.height - TOP - BOTTOM)


def layout_problems(pages: list[Page]) -> list[str]:
    """One line per problem: 'page N: ...' (footer collisions, pages less than half full)."""
    out = []
    for i, page in enumerate(pages):
        foot = _footer(page)
        if foot is not None:
            clash = [w.text for w in _body(page) if w.y1 > foot.y0 - 2]
            if clash:
                out.append(f"page {page.number}: text runs into the footer: {' '.join(clash[:8])}")
        last = i == len(pages) - 1
        before_section = not last and opens_section(pages[i + 1])
        if last or fill(page) >= MIN_FILL:
            continue
        if not starts_at_top(page):
            out.append(f"page {page.number}: a page of floats alone, only {fill(page):.0%} full")
        elif not before_section:
            out.append(f"page {page.number}: only {fill(page):.0%} full")
    return out
