"""Synthetic handwriting: text from a real word list, rendered with handwriting fonts."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model.charset import Charset

RENDER_VERSION = 2  # bumped whenever rendering changes, so cached rendered sets are made again
X_HEIGHT = 16  # px; glyph height is normalised across fonts to this x-height
_PUNCT_END = ".,;:!?"


@functools.lru_cache(maxsize=4)
def word_list(lang: str = "en", n: int = 40000) -> tuple[tuple[str, ...], np.ndarray]:
    """The ``n`` most frequent words of ``lang`` (wordfreq) and sampling weights (sqrt frequency)."""
    from wordfreq import top_n_list, word_frequency

    words = tuple(w for w in top_n_list(lang, n) if w.isprintable() and " " not in w)
    freq = np.array([word_frequency(w, lang) for w in words], dtype=np.float64)
    weights = np.sqrt(freq)
    return words, weights / weights.sum()


class TextSampler:
    """Random words, lines and uppercase names, written as people write them."""

    def __init__(self, charset: Charset, seed: int | None = None, caps_lines: float = 0.0) -> None:
        self.charset = charset
        self.caps_lines = caps_lines  # share of lines written wholly in block capitals, as on forms and notes
        self.rng = random.Random(seed)
        self.nprng = np.random.default_rng(seed)
        self.en_words, self.en_weights = word_list("en")
        self.fr_words, self.fr_weights = word_list("fr", 20000)

    def _word(self, lang: str = "en") -> str:
        words, weights = (self.en_words, self.en_weights) if lang == "en" else (self.fr_words, self.fr_weights)
        if self.rng.random() < 0.3:  # flatten the distribution to see rarer words
            return words[self.rng.randrange(len(words))]
        return words[int(self.nprng.choice(len(words), p=weights))]

    def _number(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return str(self.rng.randint(0, 99))
        if r < 0.5:
            return str(self.rng.randint(1900, 2030))
        if r < 0.7:
            return f"{self.rng.randint(0, 999)}.{self.rng.randint(0, 99):02d}"
        if r < 0.85:
            return f"{self.rng.randint(1, 31)}/{self.rng.randint(1, 12)}/{self.rng.randint(0, 99):02d}"
        return str(self.rng.randint(100, 99999))

    def _token(self) -> str:
        if self.rng.random() < 0.06:
            return self._number()
        w = self._word()
        r = self.rng.random()
        if r < 0.12:
            w = w.capitalize()
        elif r < 0.15:
            w = w.upper()
        return w

    def line(self, max_words: int = 9) -> str:
        """A line of 2..max_words words with punctuation."""
        n = self.rng.randint(2, max_words)
        toks = [self._token() for _ in range(n)]
        if self.rng.random() < 0.5:
            toks[0] = toks[0].capitalize()
        for i in range(n):
            r = self.rng.random()
            if r < 0.08:
                toks[i] += ","
            elif r < 0.1:
                toks[i] += self.rng.choice(".;:!?")
            elif r < 0.12:
                toks[i] = f'"{toks[i]}"'
            elif r < 0.13:
                toks[i] = f"({toks[i]})"
            elif r < 0.14:
                toks[i] = f"{toks[i]}-{self._word()}"
            elif r < 0.145:
                toks[i] = self.rng.choice(["&", "-", "+", "#" + str(self.rng.randint(1, 99)), "*"])
            elif r < 0.15:
                toks[i] = f"'{toks[i]}'"
        if self.rng.random() < 0.35 and toks[-1][-1] not in _PUNCT_END:
            toks[-1] += self.rng.choice("..........,!?:;")
        text = " ".join(toks)
        if self.caps_lines and self.rng.random() < self.caps_lines:
            text = text.upper()
        return self.charset.filter(text)

    def word(self) -> str:
        """A single word, sometimes capitalised, with trailing punctuation, or a number."""
        w = self._token()
        if self.rng.random() < 0.1:
            w += self.rng.choice(".,;:!?")
        return self.charset.filter(w) or "a"

    def name(self) -> str:
        """An uppercase name-like word (English or French word list), sometimes two."""
        parts = [self._word(self.rng.choice(["en", "fr"])).upper() for _ in range(1 if self.rng.random() < 0.8 else 2)]
        sep = self.rng.choice([" ", "-"])
        return self.charset.filter(sep.join(parts)) or "A"

    def sample(self) -> str:
        """A line (60 %), word (25 %) or uppercase name (15 %)."""
        r = self.rng.random()
        if r < 0.6:
            return self.line()
        if r < 0.85:
            return self.word()
        return self.name()


@dataclass
class Font:
    """A handwriting font at the size that gives it the common x-height, with its coverage."""

    path: Path
    font: ImageFont.FreeTypeFont
    covered: frozenset[str]


def load_font(path: Path, charset: Charset) -> Font | None:
    """Load a font scaled to ``X_HEIGHT`` and find which charset characters it really draws."""
    try:
        probe = ImageFont.truetype(str(path), 100)
    except OSError:
        return None
    box = probe.getbbox("x", anchor="ls")
    xh = max(1, box[3] - box[1])
    size = max(8, int(round(100 * X_HEIGHT / xh)))
    font = ImageFont.truetype(str(path), size)
    def glyph(ch: str) -> bytes:
        mask = font.getmask(ch)
        return bytes(Image.frombuffer("L", mask.size, bytes(mask), "raw", "L", 0, 1).tobytes()) if mask.size[0] else b""

    notdef = glyph("\uffff")
    covered = {" "}
    for ch in charset.chars:
        if ch == " ":
            continue
        pixels = glyph(ch)
        if pixels and pixels != notdef and max(pixels) > 0:
            covered.add(ch)
    return Font(path, font, frozenset(covered))


def load_fonts(paths: list[Path], charset: Charset, min_coverage: float = 0.9) -> list[Font]:
    """Load every font that draws at least ``min_coverage`` of the charset (letters all present)."""
    fonts = []
    letters = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for p in paths:
        f = load_font(p, charset)
        if f and letters <= f.covered and len(f.covered) >= min_coverage * len(charset.chars):
            fonts.append(f)
    return fonts


def _letter_pens(word: str, f: ImageFont.FreeTypeFont, tracking: float) -> list[float]:
    """Pen x of each letter of ``word`` drawn with ``tracking`` px between letters (the font's own advances kept)."""
    return [f.getlength(word[:i]) + i * tracking for i in range(len(word))]


def _word_box(word: str, f: ImageFont.FreeTypeFont, pens: list[float] | None) -> tuple[int, int, int, int]:
    """(l, t, r, b) around the pen of ``word`` as drawn: whole, or letter by letter at ``pens``."""
    if pens is None:
        return tuple(int(v) for v in f.getbbox(word, anchor="ls"))  # type: ignore[return-value]
    boxes = [(x + b[0], b[1], x + b[2], b[3]) for x, b in zip(pens, (f.getbbox(ch, anchor="ls") for ch in word))]
    return (int(min(b[0] for b in boxes)), int(min(b[1] for b in boxes)),
            int(max(b[2] for b in boxes)) + 1, int(max(b[3] for b in boxes)))


def render(text: str, font: Font, rng: random.Random, tracking: float = 0.0, jitter: float = 0.0) -> np.ndarray:
    """Render text word by word (jittered spacing, baseline and size) -> gray uint8, ink dark.

    The canvas is sized from every word's drawn box, so a drifting baseline or a tall swash is never cut off
    (the label must describe all of the image's ink, and only it). ``tracking`` (a fraction of the x-height, may be
    negative) draws each word letter by letter that much tighter or looser than the font sets it: real hands crowd
    and spread their letters in ways a font's fixed advances never do. ``jitter`` (0..1) draws every letter with its
    own small slant, turn, size and baseline (``glyph_warp``): a hand never writes a letter twice alike, a font does.
    """
    words = text.split(" ")
    f = font.font
    track = tracking * X_HEIGHT
    space = max(4, int(f.getlength(" ") * rng.uniform(0.7, 1.6)))
    ascent, descent = f.getmetrics()
    widths = [int(f.getlength(w) + track * (len(w) - 1)) + 2 for w in words]
    apart = bool(track or jitter)
    letters = [_letter_pens(w, f, track) if apart and len(w) > 1 else None for w in words]  # None: drawn whole
    boxes = [_word_box(w, f, pens) for w, pens in zip(words, letters)]  # (l, t, r, b) around the pen
    drift = rng.uniform(-0.03, 0.03)
    x = X_HEIGHT + rng.randint(0, 6)
    pens: list[tuple[int, int]] = []  # (x, baseline offset) of each word
    for ww in widths:
        pens.append((x, int(drift * x) + rng.randint(-2, 2)))
        x += ww + space + rng.randint(-max(1, space // 4), max(1, space // 3))
    top = min(min(y + b[1] for (_, y), b in zip(pens, boxes)), min(y for _, y in pens) - ascent)
    bottom = max(max(y + b[3] for (_, y), b in zip(pens, boxes)), max(y for _, y in pens) + descent)
    left = min(px + b[0] for (px, _), b in zip(pens, boxes))
    right = max(max(px + b[2] for (px, _), b in zip(pens, boxes)), x - space)
    pad = int((ascent + descent) * 0.3)
    margin = int(np.ceil(JITTER_MARGIN * X_HEIGHT)) if jitter else 0  # room for letters warped beyond their boxes
    shift = max(0, 2 - left) + margin  # a swash left of the first pen position
    img = Image.new("L", (max(right + shift + X_HEIGHT + margin, 8), max(bottom - top + 2 * (pad + margin), 8)), 255)
    draw = ImageDraw.Draw(img)
    page = np.array(img) if jitter else None  # warped letters are laid on this copy, not on the image
    for w, (px, y), word_pens in zip(words, pens, letters):
        parts = zip(w, word_pens) if word_pens else [(w, 0)]  # letter by letter, or the whole word at its pen
        for part, lx in parts:
            pen = (px + shift + lx, pad + margin - top + y)
            if page is not None:
                _draw_warped(page, part, f, pen, glyph_warp(rng, jitter))
            else:
                draw.text(pen, part, font=f, fill=0, anchor="ls")
    return page if page is not None else np.asarray(img)


JITTER_MARGIN = 0.5  # x-heights of paper added around a jittered line: a warped letter never leaves the image


def glyph_warp(rng: random.Random, amount: float) -> np.ndarray:
    """A 2x3 affine map about a letter's pen (its origin on the baseline): at ``amount`` 1 up to ±0.15 more slant,
    ±4° of turn, ±10 % of height, ±8 % of width and ±1.5 px of baseline."""
    shear = rng.uniform(-0.15, 0.15) * amount
    turn = np.radians(rng.uniform(-4.0, 4.0) * amount)
    sy = 1.0 + rng.uniform(-0.10, 0.10) * amount
    sx = 1.0 + rng.uniform(-0.08, 0.08) * amount
    dy = rng.uniform(-1.5, 1.5) * amount
    c, s = np.cos(turn), np.sin(turn)
    linear = np.array([[c, -s], [s, c]]) @ np.array([[1.0, -shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    return np.hstack([linear, [[0.0], [dy]]])


def _draw_warped(page: np.ndarray, letter: str, f: ImageFont.FreeTypeFont, pen: tuple[float, float],
                 warp: np.ndarray) -> None:
    """Draw ``letter`` into ``page`` (gray, ink dark) with its pen at ``pen``, its shape mapped by ``warp`` about the
    pen."""
    box = f.getbbox(letter, anchor="ls")
    left, top, right, bottom = int(np.floor(box[0])), int(np.floor(box[1])), int(np.ceil(box[2])), int(np.ceil(box[3]))
    if right <= left or bottom <= top:
        return
    room = int(np.ceil(JITTER_MARGIN * X_HEIGHT))
    w, h = right - left + 2 * room, bottom - top + 2 * room
    origin = (room - left, room - top)  # the pen inside the letter's own canvas
    glyph = Image.new("L", (w, h), 0)
    ImageDraw.Draw(glyph).text(origin, letter, font=f, fill=255, anchor="ls")
    linear, o = warp[:, :2], np.array(origin, dtype=np.float64)
    matrix = np.hstack([linear, (warp[:, 2] + o - linear @ o)[:, None]])  # the warp about the pen, in canvas pixels
    ink = cv2.warpAffine(np.asarray(glyph), matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    x0, y0 = int(round(pen[0])) - origin[0], int(round(pen[1])) - origin[1]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(page.shape[1], x0 + w), min(page.shape[0], y0 + h)
    if xb > xa and yb > ya:
        region = page[ya:yb, xa:xb]
        np.minimum(region, 255 - ink[ya - y0:yb - y0, xa - x0:xb - x0], out=region)


def can_render(text: str, font: Font) -> bool:
    """True if the font draws every character of ``text``."""
    return set(text) <= font.covered


FORM_LABELS = (
    "NOM :", "PRENOM :", "NOM", "PRENOM", "NAME:", "Name", "SURNAME", "First name:", "NOM DE NAISSANCE",
    "DATE :", "VILLE", "Nom :", "Prénom :", "SIGNATURE", "CODE", "N°", "Last name", "CITY:",
)


@functools.lru_cache(maxsize=8)
def _printed_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable sans font (for printed form labels)."""
    return ImageFont.load_default(size)


def render_form_field(text: str, font: Font, rng: random.Random) -> np.ndarray:
    """Handwritten block capitals in a form field: a printed label beside or above, spaced letters,
    comb boxes, an underline or a box edge; only ``text`` is the label of the result."""
    f = font.font
    ascent, descent = f.getmetrics()
    spacing = rng.choice([0.0, 0.0, 0.3, 0.8, 1.5]) * X_HEIGHT
    letters = list(text)
    widths = [int(f.getlength(ch)) + 1 for ch in letters]
    hand_w = sum(widths) + int(spacing * len(letters)) + 4
    label = rng.choice(FORM_LABELS)
    pf = _printed_font(rng.randint(10, 16))
    lw = int(pf.getlength(label)) + 6 if hasattr(pf, "getlength") else 6 * len(label)
    above = rng.random() < 0.4
    height = int((ascent + descent) * (2.3 if above else 1.5))
    width = (max(lw, hand_w) if above else lw + hand_w) + 2 * X_HEIGHT + rng.randint(0, 60)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    gray = rng.randint(0, 90)
    base = height - descent - rng.randint(2, 6)
    if rng.random() < 0.85:
        ly = rng.randint(0, max(1, height // 5)) if above else base - rng.randint(10, 16)
        draw.text((rng.randint(0, 8), ly), label, font=pf, fill=gray)
    x = rng.randint(4, 12) + (0 if above else lw + rng.randint(0, X_HEIGHT))
    x0 = x
    cell = max(widths) + spacing + 2
    comb = rng.random() < 0.3
    for ch, w in zip(letters, widths):
        draw.text((x, base + rng.randint(-2, 2)), ch, font=f, fill=0, anchor="ls")
        if comb:
            draw.line([(x - 3, base + descent // 2), (x - 3, base - ascent // 2)], fill=gray, width=1)
        x += int(cell) if comb else w + int(spacing) + rng.randint(-1, 2)
    r = rng.random()
    if r < 0.35:
        draw.line([(x0 - 4, base + 3), (max(x, x0 + 20) + 8, base + 3)], fill=gray, width=rng.randint(1, 2))
    elif r < 0.55:
        draw.line([(0, height - 2), (width, height - 2)], fill=gray, width=1)
        draw.line([(0, 1), (width, 1)], fill=gray, width=1)
    return np.asarray(img)
