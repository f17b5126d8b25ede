"""Full-text search of prompts: what a word is, and how a query becomes an indexed filter.

A query matches a prompt when every word of the query begins a word of the prompt, ignoring
case: "red fo" finds "A red fox", "fox" finds "Foxes at dusk", "ox" does not find "fox".
A query with no words in it (only punctuation, say) filters nothing. Whatever the user
types is reduced to words first, so quotes, brackets, `*`, `-`, `:`, AND/OR/NOT/NEAR and
the like are never read as query syntax: they cannot raise and cannot widen a search.

Both databases answer from an index that migration 0007 makes and the database keeps in
step with every write, in the writer's own transaction:

- SQLite: the FTS5 table `generations_prompt_fts` (external content: the prompts of
  `generations_generation`, rowid = generation id), kept by triggers on insert, update
  of the prompt and delete; queries are `"red"* AND "fo"*`.
- PostgreSQL: the generated column `prompt_search`, `to_tsvector('simple', <the prompt
  with SEPARATOR_RANGES blanked>)`, with a GIN index; queries are `'red':* & 'fo':*`.

A search first asks the index for the first few hundred matches. If that is all of them
(a rare word, a typo), the page is picked from those rows by id, whatever the size of the
history. If there are more (a common word, the first letter typed), the history is read
newest first and each row checked against the index, which fills a page after a few rows.

The same query finds the same prompts on both because a word means the same on both:

- a word is a run of letters, digits and combining marks (Unicode categories L, Nd, Nl
  and M); everything else separates words, superscripts and fractions too: "don't" is
  `don` + `t`, "x-ray" `x` + `ray`, "16:9" `16` + `9`, "3.14" `3` + `14`, "foo_bar"
  `foo` + `bar`, "#ff5a36" `ff5a36`; curly quotes, dashes, ellipses and emoji separate;
- case is folded (for non-ASCII letters PostgreSQL needs a UTF-8 `lc_ctype`, its default
  everywhere but a database made with the C locale);
- accents count: "café" is not "cafe" on either side. SQLite's `remove_diacritics` and
  PostgreSQL's `unaccent` fold differently (ß, æ, ø, œ, ł), so neither folds; the old
  substring search did not fold them either;
- no stemming and no stop words ('simple' on PostgreSQL, unicode61 on SQLite);
- text without spaces between words (Chinese, Japanese) is one word per run, found by
  its beginning.

PostgreSQL's parser would otherwise read "x-ray", "foo.bar", "a@b.com", "3.14" and
"/usr/bin" as compound tokens, and on a C-locale database glue curly quotes, dashes and
ellipses to words; blanking `SEPARATOR_RANGES` first leaves it only runs of word characters.
SQLite's unicode61 tokenizer is told the same (`categories 'L* Nd Nl M*'`, the marks in
these ranges as `separators`). Known differences, outside the contract: unicode61 knows
Unicode 6.1, so a character assigned later (🙂 🤔 🥰) glues the words it touches on SQLite
when typed with no space around it; a C-locale PostgreSQL takes every non-ASCII character
outside these ranges (a script's own punctuation, rarer symbols) for a letter.
"""

from __future__ import annotations

import bisect
import unicodedata
from typing import TYPE_CHECKING

from django.db import connections
from django.db.models import BigIntegerField, BooleanField, F, Func
from django.db.models.expressions import RawSQL

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from generations.models import Generation

FTS_TABLE = "generations_prompt_fts"
PG_COLUMN = "prompt_search"
PG_INDEX = "generations_prompt_search"
# Up to this many matches, the page is picked from them by id; beyond, the history is read
# newest first, and a word that common fills a page within a few hundred rows.
FEW = 500

# Code points that separate words although a tokenizer might not say so. Every assigned
# character here is outside the word categories (L, Nd, Nl, M) but for the marks that
# decorate symbols and the variation selectors, which are the SQLite tokenizer's `separators`.
SEPARATOR_RANGES: tuple[tuple[int, int], ...] = (
    (0x0001, 0x002F), (0x003A, 0x0040), (0x005B, 0x0060),  # ASCII but letters and digits
    (0x007B, 0x00A9), (0x00AB, 0x00B4), (0x00B6, 0x00B9), (0x00BB, 0x00BF),  # Latin-1 signs, ² ³ ¹ ½
    (0x00D7, 0x00D7), (0x00F7, 0x00F7),  # multiplication and division signs
    (0x2000, 0x206F),  # general punctuation: spaces, dashes, curly quotes, ellipsis
    (0x20A0, 0x20CF),  # currency signs
    (0x20D0, 0x20FF),  # combining marks for symbols (a keycap's U+20E3)
    (0x2190, 0x2BFF),  # arrows, maths, technical, circled numbers, shapes, dingbats
    (0x2E00, 0x2E2E), (0x2E30, 0x2E7F),  # supplemental punctuation
    (0x3000, 0x3004), (0x3008, 0x3020), (0x3030, 0x3030), (0x303D, 0x303F),  # CJK punctuation
    (0x30A0, 0x30A0), (0x30FB, 0x30FB),  # katakana double hyphen and middle dot
    (0xFE00, 0xFE0F),  # variation selectors (the emoji presentation selector U+FE0F)
    (0xFE10, 0xFE19), (0xFE30, 0xFE4F), (0xFE50, 0xFE6B),  # vertical, compatibility, small forms
    (0xFF01, 0xFF0F), (0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65),  # fullwidth punctuation
    (0xFFF9, 0xFFFD),  # specials, the replacement character
    (0x1F000, 0x1FAFF),  # game symbols, enclosed alphanumerics, emoji, pictographs
    (0xE0000, 0xE007F), (0xE0100, 0xE01EF),  # tags (flags), variation selectors supplement
)  # fmt: skip
_STARTS = [start for start, _ in SEPARATOR_RANGES]


def _is_word_char(char: str) -> bool:
    code = ord(char)
    i = bisect.bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= SEPARATOR_RANGES[i][1]:
        return False
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("Nd", "Nl")


def words(query: str) -> list[str]:
    """The distinct words of `query` in order, as the indexes cut prompts into words.

    Case is left to each database, which folds the query as it folded the prompts.
    """
    found: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFC", query) + " ":
        if _is_word_char(char):
            current.append(char)
        elif current:
            word = "".join(current)
            if word not in found:
                found.append(word)
            current = []
    return found


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term a quoted prefix, all required (`"red"* AND "fo"*`).

    Quoting makes each term a string, never a keyword or an operator; a quote inside one is
    doubled (words never contain one, but the expression stays well formed regardless).
    """
    return " AND ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)


def tsquery(terms: list[str]) -> str:
    """A `to_tsquery` text: every term a quoted prefix, all required (`'red':* & 'fo':*`)."""
    quoted = (term.replace("\\", "\\\\").replace("'", "''") for term in terms)
    return " & ".join(f"'{term}':*" for term in quoted)


def _index_query(vendor: str, table: str, terms: list[str]) -> tuple[str, tuple[str]] | None:
    """SQL for the ids of the generations that match, from this database's index (None: no index)."""
    if vendor == "sqlite":
        return f'SELECT rowid FROM "{FTS_TABLE}" WHERE "{FTS_TABLE}" MATCH %s', (fts5_query(terms),)
    if vendor == "postgresql":
        return f'SELECT id FROM "{table}" WHERE {_pg_condition(table)}', (tsquery(terms),)
    return None


def _pg_condition(table: str) -> str:
    return f'"{table}"."{PG_COLUMN}" @@ to_tsquery(\'simple\'::regconfig, %s)'


def matching(rows: QuerySet[Generation], query: str) -> QuerySet[Generation]:
    """`rows` narrowed to generations whose prompt has every word of `query` (as a prefix).

    Asks the index once, for at most `FEW` + 1 ids, to choose how the page is found.
    """
    terms = words(query)
    if not terms:
        return rows
    vendor, table = connections[rows.db].vendor, rows.model._meta.db_table
    index_query = _index_query(vendor, table, terms)
    if index_query is None:  # another database: the same words, found by a scan (as substrings)
        for term in terms:
            rows = rows.filter(prompt__icontains=term)
        return rows
    sql, params = index_query
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {FEW + 1}", params)
        ids = [pk for (pk,) in cursor.fetchall()]
    if len(ids) <= FEW:
        return rows.filter(pk__in=ids)
    if vendor == "sqlite":
        # `+id` keeps SQLite from driving the query by id: it reads the history newest first
        # (an index in page order) and looks each row up in the index's answer.
        unindexed_id = Func(F("pk"), template="+%(expressions)s", output_field=BigIntegerField())
        return rows.alias(search_id=unindexed_id).filter(search_id__in=RawSQL(sql, params))
    # The stored words of each row are checked as the history is read newest first.
    return rows.filter(RawSQL(_pg_condition(table), params, output_field=BooleanField()))
