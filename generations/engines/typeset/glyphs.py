"""Which shipped font draws which character: coverage, the fallback chain and font runs.

Coverage is read from each font's own character map (its `cmap` table), so "this font
has a glyph for that character" is a fact about the file, never a guess from pixels.
Text is set per character with the first font in the chain that has it; a run of text
in one font is what Pillow shapes and draws in one call.

This module imports nothing from Django or the rest of Studio, so request validation can
ask `undrawable` what the engine cannot letter before anything is charged.
"""

from __future__ import annotations

import struct
import unicodedata
from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().with_name("fonts")

# After the style's own face, characters are looked up in these, in order.
FALLBACK_CHAIN = (
    "DejaVuSans-Bold.ttf",  # Latin, Greek, Cyrillic, symbols, arrows
    "NotoSansCJKsc-Bold-subset.otf",  # Chinese hanzi, Japanese kana and kanji, Hangul
    "NotoSansArabic-Bold.ttf",
    "NotoSansHebrew-Bold.ttf",
    "NotoSansDevanagari-Bold.ttf",
    "NotoSansThai-Bold.ttf",
)
# Scripts drawn by their own font even where an earlier font in the chain has some of
# their letters (DejaVu's Arabic and Hebrew are partial and unshaped in its bold face).
SCRIPT_FONTS = (
    (0x0590, 0x05FF, "NotoSansHebrew-Bold.ttf"),
    (0xFB1D, 0xFB4F, "NotoSansHebrew-Bold.ttf"),
    (0x0600, 0x08FF, "NotoSansArabic-Bold.ttf"),
    (0xFB50, 0xFDFF, "NotoSansArabic-Bold.ttf"),
    (0xFE70, 0xFEFF, "NotoSansArabic-Bold.ttf"),
)
# Characters that need no glyph: they shape or join what is beside them, or are nothing.
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def _table(data: bytes, tag: bytes) -> bytes:
    """One table of an sfnt font file (TrueType or OpenType/CFF)."""
    (count,) = struct.unpack_from(">H", data, 4)
    for k in range(count):
        name, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * k)
        if name == tag:
            return data[offset : offset + length]
    raise ValueError(f"font has no {tag!r} table")


def _format4(sub: bytes) -> set[int]:
    seg_x2 = struct.unpack_from(">H", sub, 6)[0]
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", sub, 14)
    starts = struct.unpack_from(f">{segs}H", sub, 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", sub, 16 + 2 * seg_x2)
    range_at = 16 + 3 * seg_x2
    ranges = struct.unpack_from(f">{segs}H", sub, range_at)
    found: set[int] = set()
    for i in range(segs):
        for cp in range(starts[i], ends[i] + 1):
            if cp == 0xFFFF:
                continue
            if ranges[i] == 0:
                glyph = (cp + deltas[i]) & 0xFFFF
            else:
                at = range_at + 2 * i + ranges[i] + 2 * (cp - starts[i])
                glyph = struct.unpack_from(">H", sub, at)[0] if at + 2 <= len(sub) else 0
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                found.add(cp)
    return found


def _format12(sub: bytes) -> set[int]:
    (groups,) = struct.unpack_from(">I", sub, 12)
    found: set[int] = set()
    for k in range(groups):
        start, end, glyph = struct.unpack_from(">III", sub, 16 + 12 * k)
        found.update(range(start + (glyph == 0), end + 1))
    return found


@cache
def coverage(name: str) -> frozenset[int]:
    """Every code point the font `name` (a file in `fonts/`) maps to a real glyph."""
    cmap = _table((FONT_DIR / name).read_bytes(), b"cmap")
    (count,) = struct.unpack_from(">H", cmap, 2)
    found: set[int] = set()
    for k in range(count):
        platform, _encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * k)
        if platform not in (0, 3):  # Unicode and Windows subtables; Mac ones are legacy encodings
            continue
        fmt = struct.unpack_from(">H", cmap, offset)[0]
        if fmt == 4:
            found |= _format4(cmap[offset:])
        elif fmt == 12:
            found |= _format12(cmap[offset:])
    return frozenset(found)


def _script_font(cp: int) -> str | None:
    return next((name for lo, hi, name in SCRIPT_FONTS if lo <= cp <= hi and cp in coverage(name)), None)


def _needs_no_glyph(ch: str) -> bool:
    return ch.isspace() or ch in INVISIBLE or "\ufe00" <= ch <= "\ufe0f"


def _attaches(ch: str) -> bool:
    """A mark, joiner or selector: drawn with the character before it, never on its own."""
    return unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch in INVISIBLE or "\ufe00" <= ch <= "\ufe0f"


def font_for_char(ch: str, preferred: str) -> str | None:
    """The first font of `preferred` then the fallback chain that has `ch`; None if none does."""
    cp = ord(ch)
    script = _script_font(cp)
    for name in (*((script,) if script else ()), preferred, *FALLBACK_CHAIN):
        if cp in coverage(name):
            return name
    return None


def undrawable(text: str) -> list[str]:
    """The characters of `text` that no shipped font can draw, each once, in order of appearance."""
    missing: list[str] = []
    for ch in text:
        if ch not in missing and not _needs_no_glyph(ch) and font_for_char(ch, FALLBACK_CHAIN[0]) is None:
            missing.append(ch)
    return missing


def describe(chars: list[str]) -> str:
    """'"🚀" (U+1F680 ROCKET), ...': how an error message names characters."""
    return ", ".join(f'"{ch}" (U+{ord(ch):04X} {unicodedata.name(ch, "unnamed")})' for ch in chars)


def base_font(text: str, preferred: str) -> str:
    """The face that sets `text`'s Latin-like part: `preferred`, or the wide fallback.

    `preferred` keeps the text unless it lacks a character that the wide fallback has
    (a star, an arrow, a rare accent): then the wide fallback sets all of it, so one word
    never mixes two Latin faces. Scripts neither has (CJK, Arabic...) come from the chain
    either way.
    """
    wide = FALLBACK_CHAIN[0]
    have, other = coverage(preferred), coverage(wide)
    if any(
        ord(ch) not in have and ord(ch) in other and not _needs_no_glyph(ch) and not _script_font(ord(ch))
        for ch in text
    ):
        return wide
    return preferred


def runs(text: str, preferred: str) -> list[tuple[str, str]]:
    """`text` cut into (piece, font) runs: each character in the first font that has it.

    Spaces, digits and punctuation stay in the current run when its font has them, and
    marks and joiners always do, so a phrase in one script is shaped as one piece and a
    run of Arabic keeps its spaces. Characters no font has fall to the last font tried
    (validation refuses those before a render is ever accepted).
    """
    out: list[tuple[str, str]] = []
    for ch in text:
        current = out[-1][1] if out else None
        letter = unicodedata.category(ch)[0] == "L"
        if current and (_attaches(ch) or (not letter and (ord(ch) in coverage(current) or ch.isspace()))):
            out[-1] = (out[-1][0] + ch, current)
            continue
        name = font_for_char(ch, preferred) or (current or preferred)
        if ch.isspace() and not current:
            name = preferred
        if out and out[-1][1] == name:
            out[-1] = (out[-1][0] + ch, name)
        else:
            out.append((ch, name))
    return out


def is_rtl(text: str) -> bool:
    """Whether the first strongly directional character of `text` is right-to-left."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False
