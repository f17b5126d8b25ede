"""Full-text search of prompts (generations/search.py says what a word is and how it is asked).

SQLite: an FTS5 table over the prompts (external content: the text stays in
generations_generation; rowid = generation id), kept in step by triggers in the writer's
own transaction, backfilled by a rebuild. PostgreSQL: a generated tsvector column, which
the database computes on every write, with a GIN index. Each side acts only on its own
database; other databases get nothing (search.py falls back to a scan there).

The SQL is frozen here, as a migration's must be: changing the rule in search.py needs a
new migration that rebuilds both. For later migrations:
- on SQLite, Django alters a table by rebuilding it (create, copy, drop, rename), and
  dropping generations_generation drops these triggers with it: a migration that alters
  that table must create them again and rebuild the FTS table (tests/test_search.py fails
  while they are missing);
- on PostgreSQL, the type of `prompt` cannot change while prompt_search is computed from
  it: drop the column, alter, then add it again.
"""

from django.db import migrations

# The marks that separate words (search.SEPARATOR_RANGES' M characters): combining marks for
# symbols, variation selectors and their supplement. unicode61 otherwise keeps marks in words.
_MARKS = "".join(chr(c) for a, b in ((0x20D0, 0x20FF), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF)) for c in range(a, b + 1))

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE generations_prompt_fts USING fts5("
    "prompt, content='generations_generation', content_rowid='id', "
    f"tokenize=\"unicode61 remove_diacritics 0 categories 'L* Nd Nl M*' separators '{_MARKS}'\")",
    "CREATE TRIGGER generations_prompt_fts_insert AFTER INSERT ON generations_generation BEGIN "
    "INSERT INTO generations_prompt_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "CREATE TRIGGER generations_prompt_fts_delete AFTER DELETE ON generations_generation BEGIN "
    "INSERT INTO generations_prompt_fts(generations_prompt_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); "
    "END",
    "CREATE TRIGGER generations_prompt_fts_update AFTER UPDATE OF id, prompt ON generations_generation BEGIN "
    "INSERT INTO generations_prompt_fts(generations_prompt_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); "
    "INSERT INTO generations_prompt_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "INSERT INTO generations_prompt_fts(generations_prompt_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS generations_prompt_fts_update",
    "DROP TRIGGER IF EXISTS generations_prompt_fts_delete",
    "DROP TRIGGER IF EXISTS generations_prompt_fts_insert",
    "DROP TABLE IF EXISTS generations_prompt_fts",
]

# The words of each prompt, stored (a filter reads them instead of recomputing them) and
# indexed; the regular expression blanks search.SEPARATOR_RANGES.
POSTGRESQL_FORWARD = [
    "ALTER TABLE generations_generation ADD COLUMN prompt_search tsvector GENERATED ALWAYS AS ("
    r"to_tsvector('simple'::regconfig, regexp_replace(prompt, '[\u0001-\u002f\u003a-\u0040\u005b-\u0060\u007b-\u00a9\u00ab-\u00b4\u00b6-\u00b9\u00bb-\u00bf\u00d7\u00f7\u2000-\u206f\u20a0-\u20cf\u20d0-\u20ff\u2190-\u2bff\u2e00-\u2e2e\u2e30-\u2e7f\u3000-\u3004\u3008-\u3020\u3030\u303d-\u303f\u30a0\u30fb\ufe00-\ufe0f\ufe10-\ufe19\ufe30-\ufe4f\ufe50-\ufe6b\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\ufff9-\ufffd\U0001f000-\U0001faff\U000e0000-\U000e007f\U000e0100-\U000e01ef]+', ' ', 'g'))"
    ") STORED",
    "CREATE INDEX generations_prompt_search ON generations_generation USING gin (prompt_search) WITH (fastupdate = off)",
]
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS generations_prompt_search",
    "ALTER TABLE generations_generation DROP COLUMN IF EXISTS prompt_search",
]


FORWARD = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}
BACKWARD = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}


def _execute(schema_editor, statements):
    """Run the statements written for this database's vendor; other databases get nothing."""
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)  # None: no placeholders, the SQL goes as written


def forwards(apps, schema_editor):
    _execute(schema_editor, FORWARD)


def backwards(apps, schema_editor):
    _execute(schema_editor, BACKWARD)


def restore_after_rebuild(apps, schema_editor):
    """For a later migration that makes SQLite rebuild generations_generation (adding a column
    does), which drops these triggers with the old table: create them again and rebuild the
    FTS table. PostgreSQL adds columns in place; its generated tsvector column is untouched."""
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_BACKWARD + SQLITE_FORWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0006_public_base_url"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
