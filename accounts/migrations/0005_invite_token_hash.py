"""Invite tokens are stored hashed: `token` becomes `token_hash`, and `token_prefix` is added.

The column is renamed, not replaced, so every existing invite keeps its row and its link:
0006 then hashes the tokens in place.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_teams"),
    ]

    operations = [
        migrations.RenameField(model_name="invite", old_name="token", new_name="token_hash"),
        migrations.AlterField(
            model_name="invite",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.AddField(
            model_name="invite",
            name="token_prefix",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The first characters of the link, to recognise it.",
                max_length=12,
            ),
        ),
    ]
