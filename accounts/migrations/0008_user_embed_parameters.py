from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_user_theme"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="embed_parameters",
            field=models.BooleanField(
                default=True,
                help_text="Whether new images carry the prompt and parameters in their files.",
            ),
        ),
    ]
