"""Reading a prompt for the typeset engine: quoted text, colour words, placement words.

The typeset engine's promise is that quoted text comes out exactly as written. This
module finds those quotes (without mistaking the apostrophe in "don't" for one), reads
the colour and weight words written next to them ("'SALE' in bold red font") and the
scene words around them ("bright blue background", "person on the left").
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, field

from generations.engines.typeset import glyphs

RGB = tuple[int, int, int]

# Opening quote -> the characters that may close it.
QUOTES: dict[str, str] = {
    "'": "'\u2019",
    '"': '"\u201d',
    "\u2018": "\u2019'",  # left single quote, closed by right single or plain
    "\u201c": '\u201d"',  # left double quote
    "\u00ab": "\u00bb",  # guillemets
    "\u201e": "\u201c\u201d",  # German low-high quotes
}

COLOR_WORDS: dict[str, RGB] = {
    "red": (220, 38, 38),
    "crimson": (190, 18, 60),
    "scarlet": (230, 40, 30),
    "maroon": (128, 24, 40),
    "orange": (249, 115, 22),
    "amber": (245, 158, 11),
    "yellow": (250, 204, 21),
    "gold": (234, 179, 8),
    "golden": (234, 179, 8),
    "lime": (132, 204, 22),
    "green": (22, 163, 74),
    "emerald": (16, 150, 105),
    "olive": (107, 124, 43),
    "mint": (134, 239, 172),
    "teal": (13, 148, 136),
    "turquoise": (45, 212, 191),
    "cyan": (6, 182, 212),
    "aqua": (34, 211, 238),
    "blue": (37, 99, 235),
    "azure": (56, 152, 236),
    "navy": (23, 37, 84),
    "indigo": (79, 70, 229),
    "purple": (147, 51, 234),
    "violet": (139, 92, 246),
    "lavender": (196, 181, 253),
    "magenta": (217, 70, 239),
    "pink": (244, 114, 182),
    "rose": (244, 63, 94),
    "brown": (120, 72, 40),
    "beige": (232, 214, 180),
    "cream": (250, 243, 224),
    "tan": (210, 180, 140),
    "white": (255, 255, 255),
    "black": (17, 17, 17),
    "grey": (120, 120, 128),
    "gray": (120, 120, 128),
    "silver": (192, 192, 200),
    "charcoal": (45, 45, 52),
}
MODIFIERS = {"bright", "vivid", "neon", "electric", "hot", "dark", "deep", "light", "pale", "pastel", "soft", "sky"}
TEXT_NOUNS = {"text", "font", "letters", "lettering", "type", "typography", "title", "words", "caption", "headline"}
TEXT_NOUNS |= {"heading", "writing", "label", "slogan", "tagline", "letter"}
BG_NOUNS = {"background", "backdrop", "bg", "wall", "sky", "backgrounds"}
BOLD_WORDS = {"bold", "heavy", "thick", "chunky", "fat", "black-weight", "impact", "loud"}
FILLER = {"and", "-", "with", "a", "the", "colored", "coloured", "colour", "color", "in", "of"}
QUOTE_TOKEN = "\x00q"  # stands in for a quote while reading the words around it


@dataclass
class Quote:
    """A quoted run of the prompt: the text to letter and how it was asked to look."""

    text: str
    start: int
    end: int  # prompt[start:end] is the quote including its quote marks
    color: RGB | None = None
    bold: bool = False


@dataclass
class PromptReading:
    """What the engine took from the prompt."""

    quotes: list[Quote]
    scene_text: str  # the prompt with the quotes taken out, lower-cased: what the scene is about
    words: set[str]
    background: RGB | None = None
    accents: list[RGB] = field(default_factory=list)
    subject_side: str = "center"  # "left", "right" or "center"
    text_position: str = ""  # "top", "bottom", "left", "right", "center" when the prompt says


def _is_boundary(ch: str) -> bool:
    return not ch.isalnum()


def find_quotes(prompt: str) -> list[Quote]:
    """The quoted runs of `prompt`, in order.

    A quote opens only at the start or after whitespace/punctuation and closes only before
    the end or whitespace/punctuation, so apostrophes inside words ("don't", "kids'") never
    start or end one. Surrounding spaces inside the marks are dropped; nothing else changes.
    """
    quotes: list[Quote] = []
    i = 0
    while i < len(prompt):
        closers = QUOTES.get(prompt[i])
        if closers is None or (i > 0 and not _is_boundary(prompt[i - 1])):
            i += 1
            continue
        j = i + 1
        while j < len(prompt):
            if prompt[j] in closers and (j + 1 == len(prompt) or _is_boundary(prompt[j + 1])):
                break
            j += 1
        text = prompt[i + 1 : j].strip() if j < len(prompt) else ""
        if not text:
            i += 1
            continue
        quotes.append(Quote(text=text, start=i, end=j + 1))
        i = j + 1
    return quotes


def undrawable_quoted_text(prompt: str) -> list[str]:
    """The characters of the prompt's quoted text that no font of the engine can draw.

    Request validation calls this for models served by the typeset engine, so a quote it
    cannot letter is refused before anything is charged; only quoted text counts, since
    the rest of the prompt is read, never drawn.
    """
    return glyphs.undrawable("".join(q.text for q in find_quotes(prompt)))


def adjust_color(rgb: RGB, modifier: str | None) -> RGB:
    """A colour word's colour, brightened, darkened or softened by the word before it."""
    h, lum, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    if modifier in ("bright", "vivid", "neon", "electric", "hot"):
        s, lum = min(1.0, s * 1.15 + 0.1), min(0.6, max(lum, 0.5))
    elif modifier in ("dark", "deep"):
        lum *= 0.55
    elif modifier in ("light", "pale", "pastel", "soft", "sky"):
        lum = lum + (1 - lum) * 0.45
        s *= 0.8
    r, g, b = colorsys.hls_to_rgb(h, lum, s)
    return round(r * 255), round(g * 255), round(b * 255)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\x00q|[\w-]+|[^\w\s]", text.lower())


def read_prompt(prompt: str) -> PromptReading:
    """Quotes with their colours and weights, plus the scene's words and colour wishes."""
    quotes = find_quotes(prompt)
    masked, last = [], 0
    for q in quotes:
        masked += [prompt[last : q.start], f" {QUOTE_TOKEN} "]
        last = q.end
    masked.append(prompt[last:])
    tokens = _tokens("".join(masked))
    quote_at = [i for i, t in enumerate(tokens) if t == QUOTE_TOKEN]
    reading = PromptReading(
        quotes=quotes,
        scene_text=" ".join(t for t in tokens if t != QUOTE_TOKEN),
        words={t for t in tokens if t != QUOTE_TOKEN},
    )

    def nearest_quote(i: int) -> Quote | None:
        if not quote_at:
            return None
        k = min(range(len(quote_at)), key=lambda n: (abs(quote_at[n] - i), quote_at[n] > i))
        return quotes[k]

    for i, tok in enumerate(tokens):
        if tok not in COLOR_WORDS:
            continue
        modifier = tokens[i - 1] if i and tokens[i - 1] in MODIFIERS else None
        color = adjust_color(COLOR_WORDS[tok], modifier)
        role = _color_role(tokens, i)
        if role == "text" and (near := nearest_quote(i)) is not None and near.color is None:
            near.color = color
        elif role == "background" and reading.background is None:
            reading.background = color
        elif role == "scene":
            reading.accents.append(color)
    for n, i in enumerate(quote_at):
        lo, hi = i, i
        while lo > 0 and tokens[lo - 1] not in ",.;:!?" and tokens[lo - 1] != QUOTE_TOKEN:
            lo -= 1
        while hi + 1 < len(tokens) and tokens[hi + 1] not in ",.;:!?" and tokens[hi + 1] != QUOTE_TOKEN:
            hi += 1
        quotes[n].bold = any(t in BOLD_WORDS for t in tokens[lo : hi + 1])
    reading.subject_side = _side(reading.scene_text)
    reading.text_position = _text_position(reading.scene_text)
    return reading


def _color_role(tokens: list[str], i: int) -> str:
    """Whether the colour word at `i` describes the text, the background or the scene."""
    j = i + 1
    while j < len(tokens) and j <= i + 4 and (tokens[j] in COLOR_WORDS or tokens[j] in FILLER | MODIFIERS):
        if tokens[j] in ("with", "of") and j > i + 1:
            break
        j += 1
    nxt = tokens[j] if j < len(tokens) else ""
    if (nxt == QUOTE_TOKEN and j == i + 1) or nxt in TEXT_NOUNS | BOLD_WORDS:
        return "text"
    if nxt in BG_NOUNS:
        return "background"
    # "text in red", "'SALE' in red", "background of deep blue"
    before = [t for t in tokens[max(0, i - 4) : i] if t not in MODIFIERS]
    while before and before[-1] in FILLER | BOLD_WORDS:
        before.pop()
    if before and (before[-1] in TEXT_NOUNS or before[-1] == QUOTE_TOKEN):
        return "text"
    if before and before[-1] in BG_NOUNS:
        return "background"
    return "scene"


def _side(text: str) -> str:
    left = re.search(r"\b(on|to|at) (the )?left\b|\bleft(-hand)? side\b", text)
    right = re.search(r"\b(on|to|at) (the )?right\b|\bright(-hand)? side\b", text)
    if left and not right:
        return "left"
    if right and not left:
        return "right"
    return "center"


def _text_position(text: str) -> str:
    for place in ("top", "bottom", "center", "centre"):
        if re.search(
            rf"\b(text|title|headline|words|caption|lettering)\b[^,.]{{0,24}}\b(at|on|in) (the )?{place}\b", text
        ):
            return "center" if place == "centre" else place
    return ""
