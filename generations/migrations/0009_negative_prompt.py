"""Generation.negative_prompt: what the image should avoid (optional, "" for none).

On SQLite, Django adds this column by rebuilding generations_generation, which drops the
prompt-search triggers of 0007 with the old table (0007's docstring says so): they are
created again here and the FTS table rebuilt, with 0007's own frozen SQL.
"""

from importlib import import_module

from django.db import migrations, models

_search = import_module("generations.migrations.0007_prompt_search")


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
        migrations.RunPython(_search.restore_after_rebuild, migrations.RunPython.noop, elidable=False),
    ]
