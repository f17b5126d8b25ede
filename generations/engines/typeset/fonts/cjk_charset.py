"""Print the code points kept in the CJK subset font, one `U+XXXX` per line (stdlib only).

GB 2312 (its 6,763 hanzi and its symbols: Simplified Chinese), JIS X 0208 rows 1-47
(kana, symbols and the 2,965 level-1 kanji: Japanese), KS X 1001 without its hanja (the
2,350 common Hangul syllables and symbols: Korean), plus CJK punctuation, kana, full-width forms and printable ASCII, so a
run of CJK text with spaces or digits inside stays in one font. See README.md for the
build command that uses it.
"""

from __future__ import annotations

import sys


def _double_byte(codec: str, last_lead: int = 0xFE) -> set[int]:
    """Every character an EUC-style two-byte codec encodes with lead 0xA1..`last_lead`, trail 0xA1..0xFE."""
    found: set[int] = set()
    for lead in range(0xA1, last_lead + 1):
        for trail in range(0xA1, 0xFF):
            try:
                ch = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                found.add(ord(ch))
    return found


def code_points() -> list[int]:
    """The sorted code points of the subset."""
    jis_level_1 = _double_byte("euc_jp", last_lead=0xCF)  # row 47 ends level 1
    hangul = {cp for cp in _double_byte("euc_kr") if not 0x4E00 <= cp <= 0x9FFF and not 0xF900 <= cp <= 0xFAFF}
    keep = _double_byte("gb2312") | jis_level_1 | hangul
    keep |= set(range(0x20, 0x7F))  # ASCII
    keep |= set(range(0x3000, 0x3100))  # CJK symbols and punctuation, hiragana, katakana
    keep |= set(range(0x31F0, 0x3200))  # katakana phonetic extensions
    keep |= set(range(0xFF00, 0xFFF0))  # half-width and full-width forms
    keep |= {0x00B7, 0x2014, 0x2015, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x203B}
    return sorted(keep)


if __name__ == "__main__":
    sys.stdout.write("".join(f"U+{cp:04X}\n" for cp in code_points()))
