"""Where a line of lettering may break: between words, or between CJK characters.

Latin, Cyrillic, Arabic and every other spaced script breaks only at spaces. Chinese
and Japanese have no spaces, so a line may break between any two of their characters,
except before closing punctuation and small kana (、。」ー っ) or after opening
punctuation (「『“): the usual kinsoku rules. A word is split inside only when it is
wider than the line even at the smallest size the layout allows, and then with a hyphen.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection

Measure = Callable[[str], float]  # the advance width of a text at the size being fitted

NO_LINE_START = set(
    "、。\uff0c\uff0e,.:;!?\uff01\uff1f\uff1a\uff1b」』\uff09】\u3015〉》〙〗〛”\u2019)]}…‥・ーゝゞヽヾ々〻%\uff05\u2010\u30a0\u2013〜\uff5e"
)
NO_LINE_START |= set("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ")
NO_LINE_END = set("「『\uff08【\u3014〈《〘〖〚“\u2018([{\uff04$￥¥")
HYPHEN = "-"


def is_cjk(ch: str) -> bool:
    """Han, kana, CJK punctuation and full-width forms: text that breaks between characters."""
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x2FDF  # radicals
        or 0x3000 <= cp <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x31C0 <= cp <= 0x31FF
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


def _may_break(before: str, after: str) -> bool:
    if not (is_cjk(before) or is_cjk(after)):
        return False
    return after not in NO_LINE_START and before not in NO_LINE_END


def pieces(paragraph: str) -> list[tuple[str, str]]:
    """The paragraph as unbreakable pieces, each with the glue before it (" " or "").

    A line break may fall before any piece but the first; the glue is dropped there.
    """
    out: list[tuple[str, str]] = []
    spaces = 0
    for word in paragraph.split(" "):
        spaces += 1
        if not word:
            continue
        glue, spaces = (" " * spaces if out else ""), 0
        piece = word[0]
        for before, after in itertools.pairwise(word):
            if _may_break(before, after):
                out.append((piece, glue))
                piece, glue = after, ""
            else:
                piece += after
        out.append((piece, glue))
    return out


def join(line: list[tuple[str, str]]) -> str:
    """The text of a line of pieces, with the glue between them but not before the first."""
    return "".join(glue + text if n else text for n, (text, glue) in enumerate(line))


def hyphenate(word: str, measure: Measure, width: float) -> list[str]:
    """`word` cut into pieces that each fit `width`, every one but the last ending in a hyphen."""
    parts: list[str] = []
    while len(word) > 1 and measure(word) > width:
        cut = 1
        while cut < len(word) - 1 and measure(word[: cut + 1] + HYPHEN) <= width:
            cut += 1
        parts.append(word[:cut] + HYPHEN)
        word = word[cut:]
    return [*parts, word]


def wrap(text: str, measure: Measure, width: float, breakable: Collection[str] = ()) -> list[str]:
    """Greedy wrap at the break opportunities; pieces in `breakable` may be hyphenated.

    Any other piece wider than `width` is left whole on its own line: the caller measures
    the lines and tries a smaller size.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[tuple[str, str]] = []
        line_w = 0.0
        for piece, glue in pieces(paragraph):
            piece_w = measure(piece)
            add = piece_w + (measure(glue) if glue and line else 0.0)
            if line and line_w + add <= width:
                line.append((piece, glue))
                line_w += add
                continue
            if line:
                lines.append(join(line))
            if piece_w > width and piece in breakable:
                *done, piece = hyphenate(piece, measure, width)
                lines.extend(done)
                piece_w = measure(piece)
            line, line_w = [(piece, "")], piece_w
        lines.append(join(line))
    return lines


def balanced_wrap(text: str, measure: Measure, width: float, breakable: Collection[str] = ()) -> list[str]:
    """The greedy wrap's line count, with lines as even as possible (nicer headlines).

    The narrower widths tried never go below the widest piece, so evening out the lines
    can never split a word ("BROWSER BAR" is "BROWSER" / "BAR", not "BROWS" / "ER BAR").
    """
    lines = wrap(text, measure, width, breakable)
    if len(lines) == 2 and "\n" not in text and any(is_cjk(ch) for ch in text):
        return _best_cjk_split(text, measure, width) or lines
    if not 2 <= len(lines) <= 4:
        return lines
    widest = max((measure(p) for para in text.split("\n") for p, _ in pieces(para)), default=0.0)
    lo, hi = max(width * 0.4, min(widest, width)), width
    for _ in range(7):
        mid = (lo + hi) / 2
        if len(wrap(text, measure, mid, breakable)) == len(lines):
            hi = mid
        else:
            lo = mid
    return wrap(text, measure, hi, breakable)


# Japanese particles: a line may end after one of these without splitting a word.
PARTICLES = set("はがをにへでとものや")


def _best_cjk_split(text: str, measure: Measure, width: float) -> list[str] | None:
    """Two lines of CJK text, split where it reads best: at a space, after a particle or
    between kanji and kana, else as evenly as possible; None when no split fits `width`."""
    parts = pieces(text)
    best: tuple[float, list[str]] | None = None
    for k in range(1, len(parts)):
        first, second = join(parts[:k]), join([(parts[k][0], ""), *parts[k + 1 :]])
        longest = max(measure(first), measure(second))
        if longest > width:
            continue
        before, after, glue = first[-1], second[0], parts[k][1]
        natural = glue == " " or (before in PARTICLES and after not in PARTICLES) or _kind(before) != _kind(after)
        cost = longest * (0.8 if natural else 1.0)
        if best is None or cost < best[0]:
            best = (cost, [first, second])
    return best[1] if best else None


def _kind(ch: str) -> str:
    cp = ord(ch)
    if 0x3040 <= cp <= 0x309F:
        return "hiragana"
    if 0x30A0 <= cp <= 0x30FF:
        return "katakana"
    return "han" if is_cjk(ch) else "other"
