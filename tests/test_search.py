"""Prompt search: every word a prefix, from the full-text index, the same on SQLite and PostgreSQL.

Runs on SQLite by default; `DATABASE_URL=postgres://…` runs the same tests on PostgreSQL
(the vendor-only ones say so in their names).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations import search, selectors
from generations.models import Generation, new_image_id
from tests.studio_factories import make_generation

SQLITE = connection.vendor == "sqlite"
POSTGRESQL = connection.vendor == "postgresql"
BEFORE_SEARCH = ("generations", "0006_public_base_url")

PROMPTS = [
    "A red fox in the snow",
    "Fox and whale friends",
    "A blue whale",
    "Poster with text 'OPEN LATE' in bold red font",
    "Don't stop \u2014 \u201cbelieve\u201d in x-ray vision\u2026",
    "don\u2019t panic: 16:9 frame, 4k, 1080p",
    "Colours #ff5a36 and #1d2b53, retro style",
    "Caf\u00e9 na\u00efve at the \u00c9COLE, stra\u00dfe",
    "cafe naive at the ecole",
    "\u6771\u4eac\u30bf\u30ef\u30fc \u591c\u666f\u3001\u30cd\u30aa\u30f3",
    "Logo for foo_bar.com (v2.0) & friends",
    "Email me@example.com or see http://example.org/path/to",
    "Robot \u2764\ufe0f heart \U0001f642 sunset\U0001f600beach",
    "3.14 pies, -5 degrees, C++ & C#",
    "AND OR NOT NEAR",
    "The quick brown fox jumps over the lazy dog",
    "\u0391\u0398\u0397\u039d\u0391 \u03b1\u03ba\u03c1\u03cc\u03c0\u03bf\u03bb\u03b7",
    "\u041c\u043e\u0441\u043a\u0432\u0430 \u0437\u0438\u043c\u043e\u0439",
    "Tab\tseparated\nlines",
    "\u00fcn\u00efc\u00f8d\u00e9 \u00dcBER",
]
QUERIES = [
    "fox", "FOX", "fo", "ox", "red fox", "fox red", "red-fox", '"red fox"', "'OPEN LATE'", "open la",
    "dont", "don't", "don\u2019t", "believe", "x-ray", "xray", "16:9", "16 9", "4k", "1080", "ff5a36", "#ff5a",
    "1d2b", "caf\u00e9", "cafe", "CAF\u00c9", "\u00e9cole", "\u00c9COLE", "stra\u00dfe", "strasse", "na\u00efve",
    "\u6771\u4eac", "\u30bf\u30ef\u30fc", "\u30cd\u30aa\u30f3", "\u591c\u666f", "foo", "bar", "foo_bar.com", "v2",
    "example", "me@example.com", "http", "path/to", "heart", "sunset", "beach", "3.14", "14", "-5", "c++",
    "c#", "AND", "OR", "NOT", "NEAR", "and or", "\u03b1\u03b8\u03b7\u03bd\u03b1", "\u0391\u039a\u03a1\u038c",
    "\u043c\u043e\u0441\u043a\u0432\u0430", "\u0417\u0418\u041c\u041e\u0419", "separated lines", "\u00fcber",
    "\u00dcN\u00cf", "quick brown dog", "the", "t", "a", "zebra", "!!!", "*", '"', "fox*", "NEAR(fox whale)",
    "fox OR whale", "-fox", "^fox", "prompt:fox", "(fox", "fox)", "fox\\", "'); DROP TABLE generations_generation; --",
    "%", "_", "\u2764\ufe0f", "fox\x00whale",
]  # fmt: skip
# Queries that FTS5 or to_tsquery would reject, or read as operators, if they were passed on as typed.
HOSTILE = ['"', "'", 'fox"', "AND", "OR fox", "fox NOT", "NEAR(a b)", "*", "fox*", "-fox", "^fox", "fox:",
           "prompt:fox", "(", ")", "!", "&", "|", "<->", "\\", "a:*", "'a' & 'b'", "%s", "%(x)s", "{x}",
           "'); DROP TABLE generations_generation; --", "\u0000", "\ufeff", "\U0010ffff"]  # fmt: skip


def reference(prompt: str, query: str) -> bool:
    """The rule, done by hand: each word of the query begins some word of the prompt, ignoring case."""
    prompt_words = re.findall(r"[^\W_]+", prompt.lower())
    return all(any(w.startswith(q) for w in prompt_words) for q in re.findall(r"[^\W_]+", query.lower()))


def found(query: str) -> set[str]:
    return {g.prompt for g in search.matching(Generation.objects.all(), query)}


def history_prompts(user, query: str) -> list[str]:
    return [g.prompt for g in selectors.history(user, query=query).items]


def assert_index_consistent() -> None:
    """SQLite: FTS5 checks its index against the prompts (`rank` 1: the content table too)."""
    if SQLITE:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")


def copies(user, prompts: list[str]) -> list[Generation]:
    """Unsaved generations like one `make_generation` makes, with these prompts (for bulk_create)."""
    template = make_generation(user, prompt="template", files=False)
    fields = {f.attname: getattr(template, f.attname) for f in Generation._meta.concrete_fields if not f.primary_key}
    template.delete()
    return [Generation(**{**fields, "public_id": new_image_id(), "prompt": prompt}) for prompt in prompts]


@pytest.fixture
def corpus(user) -> list[Generation]:
    return [make_generation(user, prompt=p, files=False) for p in PROMPTS]


# --- what a word is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("red fo", ["red", "fo"]),
        ("Don't stop", ["Don", "t", "stop"]),
        ("x-ray 16:9 3.14 foo_bar", ["x", "ray", "16", "9", "3", "14", "foo", "bar"]),
        ('"OPEN" AND (late*) NEAR', ["OPEN", "AND", "late", "NEAR"]),
        ("\u201ccurly\u201d \u2014 dash\u2026", ["curly", "dash"]),
        ("red\u2764\ufe0fheart 1\ufe0f\u20e3", ["red", "heart", "1"]),
        ("fox fox FOX", ["fox", "FOX"]),
        ("cafe\u0301", ["caf\u00e9"]),  # typed decomposed: compared composed, as prompts are
        ("!!! *** \"\" ''", []),
    ],
)
def test_a_query_is_cut_into_words_as_the_indexes_cut_prompts(query, expected):
    assert search.words(query) == expected


def test_each_word_becomes_a_quoted_prefix_that_must_match():
    assert search.fts5_query(["red", "fo"]) == '"red"* AND "fo"*'
    assert search.tsquery(["red", "fo"]) == "'red':* & 'fo':*"
    assert search.fts5_query(['a"b']) == '"a""b"*' and search.tsquery(["a'b"]) == "'a''b':*"


# --- what a search finds ----------------------------------------------------------------


def test_every_word_must_begin_a_word_of_the_prompt(user):
    fox = make_generation(user, prompt="A red fox in the snow", files=False)
    make_generation(user, prompt="A boxer", files=False)
    assert history_prompts(user, "red fo") == [fox.prompt]
    assert history_prompts(user, "FOX Sno") == [fox.prompt]
    assert history_prompts(user, "ox") == []  # the old substring search found "fox" and "boxer"
    assert history_prompts(user, "red whale") == []


def test_punctuation_around_the_words_of_a_query_does_not_hide_a_match(user):
    fox = make_generation(user, prompt="Poster with text 'OPEN LATE', a red fox", files=False)
    # The old search looked for each space-separated piece, quotes and hyphens included.
    for query in ('"open late"', "'OPEN", "red-fox", "fox,", "(late)", "open!"):
        assert history_prompts(user, query) == [fox.prompt], query


@pytest.mark.parametrize("query", HOSTILE)
def test_query_syntax_and_odd_characters_in_a_query_never_raise(user, query):
    make_generation(user, prompt="A red fox and a whale", files=False)
    with transaction.atomic():  # a database error would break the rest of the test's transaction
        prompts = history_prompts(user, query)
    expected = ["A red fox and a whale"] if reference("A red fox and a whale", query) else []
    assert prompts == expected


def test_a_query_without_words_filters_nothing(user, corpus):
    assert found("!!! ***") == set(PROMPTS)
    assert len(history_prompts(user, "\u2014 \u2764\ufe0f")) == len(PROMPTS)


@pytest.mark.parametrize("few", [search.FEW, 2], ids=["few matches: by id", "many matches: newest first"])
def test_results_are_those_of_the_reference_rule_for_every_query(corpus, monkeypatch, few):
    monkeypatch.setattr(search, "FEW", few)
    mismatches = {}
    for query in QUERIES:
        expected = {p for p in PROMPTS if reference(p, query)}
        if (got := found(query)) != expected:
            mismatches[query] = (sorted(got - expected), sorted(expected - got))
    assert mismatches == {}, "query: (found but not expected, expected but not found)"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("caf\u00e9", {"Caf\u00e9 na\u00efve at the \u00c9COLE, stra\u00dfe"}),  # accents count, both ways
        ("cafe", {"cafe naive at the ecole"}),
        ("\u00e9cole", {"Caf\u00e9 na\u00efve at the \u00c9COLE, stra\u00dfe"}),  # case folds beyond ASCII
        ("\u0437\u0438\u043c", {"\u041c\u043e\u0441\u043a\u0432\u0430 \u0437\u0438\u043c\u043e\u0439"}),
        ("\u6771\u4eac", {"\u6771\u4eac\u30bf\u30ef\u30fc \u591c\u666f\u3001\u30cd\u30aa\u30f3"}),  # start of a run
        ("\u30bf\u30ef\u30fc", set()),  # not its middle: no word segmentation for CJK
        ("beach", {"Robot \u2764\ufe0f heart \U0001f642 sunset\U0001f600beach"}),  # emoji separate words
        ("1080", {"don\u2019t panic: 16:9 frame, 4k, 1080p"}),  # digits are word characters
    ],
)
def test_the_documented_cases_of_the_tokenizers_agreement(corpus, query, expected):
    assert found(query) == expected


def test_words_joined_by_combining_marks_stay_one_word(user):
    hindi = make_generation(user, prompt="\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e", files=False)
    assert history_prompts(user, "\u0939\u093f\u0928\u094d") == [hindi.prompt]
    assert history_prompts(user, "\u0926\u0940") == []  # the middle of a word, not a word of its own


def test_search_keeps_to_the_workspace_and_the_other_filters(user, make_user):
    mine = make_generation(user, prompt="A red fox", style="anime", files=False)
    make_generation(user, prompt="A red fox at dusk", files=False)
    make_generation(make_user(), prompt="A red fox too", style="anime", files=False)
    assert [g.pk for g in selectors.history(user, query="fox", style="anime").items] == [mine.pk]


def test_search_pages_by_cursor_like_the_rest_of_history(user):
    made = [make_generation(user, prompt=f"fox number {i}", files=False) for i in range(5)]
    make_generation(user, prompt="whale", files=False)
    first = selectors.history(user, query="fox", limit=3)
    rest = selectors.history(user, query="fox", limit=3, cursor=first.next_cursor)
    assert [g.pk for g in first.items + rest.items] == [g.pk for g in reversed(made)]
    assert rest.next_cursor is None


def test_a_common_word_pages_newest_first_however_the_ids_run(user, make_user, monkeypatch):
    monkeypatch.setattr(search, "FEW", 3)  # more matches than that: the history is read newest first
    now = timezone.now()
    # Ids and times in different orders, as imported or back-dated images have them.
    made = [
        make_generation(user, prompt=f"fox {i}", created_at=now - timedelta(minutes=i * 7 % 10), files=False)
        for i in range(10)
    ]
    make_generation(user, prompt="whale", files=False)
    make_generation(make_user(), prompt="fox elsewhere", files=False)
    first = selectors.history(user, query="fo", limit=4)
    rest = selectors.history(user, query="fo", limit=10, cursor=first.next_cursor)
    newest_first = sorted(made, key=lambda g: (g.created_at, g.pk), reverse=True)
    assert [g.pk for g in first.items + rest.items] == [g.pk for g in newest_first]


def test_the_gallery_searches_by_prefix_as_the_user_types(logged_in, user):
    fox = make_generation(user, prompt="A red fox in the snow", files=False)
    page = logged_in.get("/", {"q": '"red fo'}, headers={"HX-Request": "true", "HX-Target": "gallery-results"})
    assert page.status_code == 200
    assert re.findall(r'<figure id="gen-(img_[0-9a-f]+)"', page.content.decode()) == [fox.public_id]


# --- the index stays in step with the prompts -------------------------------------------


def test_the_index_follows_every_change_inside_the_writing_transaction(user):
    with transaction.atomic():
        g = make_generation(user, prompt="A lighthouse at dusk", files=False)
        assert found("lighth") == {g.prompt}
        Generation.objects.filter(pk=g.pk).update(prompt="A windmill at dawn")
        assert found("lighthouse") == set() and found("windm") == {"A windmill at dawn"}
        g.refresh_from_db()
        g.prompt = "A castle"
        g.save()
        assert found("windmill") == set() and found("castle") == {"A castle"}
        g.save(update_fields=["style"])  # a write that leaves the prompt alone
        assert found("castle") == {"A castle"}
        g.delete()
        assert found("castle") == set()
        assert_index_consistent()


def test_bulk_writes_raw_sql_and_cascades_are_indexed_too(user, make_user):
    other = make_user()
    Generation.objects.bulk_create(copies(user, [f"Koi pond {i}" for i in range(3)]) + copies(other, ["Koi carp"]))
    assert len(found("koi")) == 4
    with connection.cursor() as cursor:  # the database keeps the index, not Django's signals
        cursor.execute("UPDATE generations_generation SET prompt = %s WHERE prompt = %s", ["Lotus pond", "Koi pond 0"])
    assert found("lotus") == {"Lotus pond"} and len(found("koi")) == 3
    Generation.objects.filter(prompt__startswith="Koi pond").delete()
    other.delete()  # its generations go with it
    assert found("koi") == set() and found("pond") == {"Lotus pond"}
    assert_index_consistent()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_the_index_as_it_was(make_user):
    user = make_user()
    kept = make_generation(user, prompt="A red fox", files=False)
    gone = make_generation(user, prompt="A blue whale", files=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_generation(user, prompt="A zebra crossing", files=False)
        Generation.objects.filter(pk=kept.pk).update(prompt="A lion")
        gone.delete()
        assert found("zebra") and found("lion") and not found("whale")
        raise RuntimeError("the request failed")
    assert found("zebra") == set() and found("lion") == set()
    assert found("fox") == {"A red fox"} and found("whale") == {"A blue whale"}
    assert_index_consistent()


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_existing_prompts_and_reverses_cleanly(make_user):
    user = make_user()
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE_SEARCH])
    try:
        assert search.FTS_TABLE not in connection.introspection.table_names()
        # The row as that schema has it (later migrations add columns the current model writes).
        then = executor.loader.project_state([BEFORE_SEARCH]).apps.get_model("generations", "Generation")
        made = then.objects.create(
            user_id=user.pk, model="seedream-5.0-lite", engine="fake", prompt="A paper boat on a koi pond",
            aspect_ratio="1:1", width=1024, height=1024, style="auto", seed=1, deadline_at=timezone.now(),
        )  # fmt: skip
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert [g.pk for g in selectors.history(user, query="koi bo").items] == [made.pk]
    assert_index_consistent()


# --- each database's side of it ---------------------------------------------------------


@pytest.mark.skipif(not SQLITE, reason="SQLite's FTS5 table")
def test_sqlite_keeps_its_sync_triggers_through_every_migration(db):
    # Django rebuilds a SQLite table to alter it, which drops its triggers: a later migration
    # that alters generations_generation must create these again (see migration 0007).
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'generations_generation'")
        triggers = {name for (name,) in cursor.fetchall()}
    assert {f"{search.FTS_TABLE}_{op}" for op in ("insert", "update", "delete")} <= triggers


@pytest.mark.skipif(not SQLITE, reason="SQLite's FTS5 table")
def test_sqlite_reports_a_stale_index(user):
    # What assert_index_consistent relies on: a prompt changed behind the triggers' back is caught.
    make_generation(user, prompt="A red fox", files=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_update")
        cursor.execute("UPDATE generations_generation SET prompt = 'A blue whale'")
        with pytest.raises(DatabaseError):
            assert_index_consistent()
        transaction.set_rollback(True)


def test_the_index_answers_and_no_prompt_is_scanned(user, corpus):
    with CaptureQueriesContext(connection) as queries:
        assert history_prompts(user, "red fox") == ["A red fox in the snow"]
    index_query, page_query = (q["sql"] for q in queries.captured_queries)
    assert (search.PG_COLUMN if POSTGRESQL else search.FTS_TABLE) in index_query
    assert "LIKE" not in page_query.upper()


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's GIN index")
def test_postgresql_reads_the_matches_from_the_gin_index(corpus):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny table: ask whether the index can serve
        cursor.execute(
            "EXPLAIN SELECT id FROM generations_generation WHERE prompt_search @@ to_tsquery('simple', %s)",
            [search.tsquery(["red", "fo"])],
        )
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert search.PG_INDEX in plan, plan


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's generated column")
def test_postgresql_blanks_exactly_the_separators_of_search(db):
    def escape(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    blanked = "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in search.SEPARATOR_RANGES)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generation_expression FROM information_schema.columns "
            "WHERE table_name = 'generations_generation' AND column_name = %s",
            [search.PG_COLUMN],
        )
        (expression,) = cursor.fetchone()
    assert f"regexp_replace(prompt, '[{blanked}]+'" in expression, expression


@pytest.mark.skipif(not SQLITE, reason="SQLite's FTS5 table")
def test_sqlite_separates_words_at_the_marks_of_search_separators(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [search.FTS_TABLE])
        (definition,) = cursor.fetchone()
    separators = re.search(r"separators '([^']*)'", definition).group(1)
    marks = {
        chr(c) for a, b in search.SEPARATOR_RANGES for c in range(a, b + 1) if unicodedata.category(chr(c))[0] == "M"
    }
    assert marks and marks <= set(separators)
