"""Generation.embed_parameters: whether the files carry the prompt and parameters (default yes).

On SQLite, Django adds this column by rebuilding generations_generation, which drops the
prompt-search triggers of 0007 with the old table (0007's docstring says so): they are
created again here and the FTS table rebuilt, with 0007's own frozen SQL, as 0009 does.
"""

from importlib import import_module

from django.db import migrations, models

_search = import_module("generations.migrations.0007_prompt_search")


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0009_negative_prompt"),
    ]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="embed_parameters",
            field=models.BooleanField(
                default=True,
                help_text="Whether the files carry the prompt and parameters (the provenance marking is always there).",
            ),
        ),
        migrations.RunPython(_search.restore_after_rebuild, migrations.RunPython.noop, elidable=False),
    ]
