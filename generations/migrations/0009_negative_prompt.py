"""Generation.negative_prompt: what the image should avoid (optional, "" for none).

On SQLite, Django adds this column by rebuilding generations_generation, which drops the
prompt-search triggers of 0007 with the old table (0007's docstring says so): they are
created again here and the FTS table rebuilt, with 0007's own frozen SQL.
"""

from importlib import import_module

from django.db import migrations, models

_search = import_module("generations.migrations.0007_prompt_search")


def restore_prompt_search(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL adds a column in place; its generated tsvector column is untouched
    for sql in _search.SQLITE_BACKWARD + _search.SQLITE_FORWARD:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0008_stage_finished_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="negative_prompt",
            field=models.TextField(blank=True, default="", help_text="What the image should avoid."),
        ),
        migrations.RunPython(restore_prompt_search, migrations.RunPython.noop, elidable=False),
    ]
