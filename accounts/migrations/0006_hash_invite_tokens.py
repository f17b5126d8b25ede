"""Hash the invite tokens stored in clear before 0005, in place, so that existing links keep working.

A link carries the raw token (`/invites/<token>`); the join page now looks an invite up by
the SHA-256 of the token it is given, so storing exactly that hash keeps every link valid.
The tokens were made by `secrets.token_urlsafe(24)` (32 characters), so a value that is
already 64 hex digits is a hash and is left alone: running this twice changes nothing.

Going back leaves the hashes where the tokens were: a hash cannot be turned back into its
token, so links created before going back stop working then.
"""

import hashlib
import re

from django.db import migrations

HASHED = re.compile(r"[0-9a-f]{64}")
PREFIX_LENGTH = 6  # accounts.models.INVITE_PREFIX_LENGTH when this was written


def hash_tokens(apps, schema_editor):
    Invite = apps.get_model("accounts", "Invite")
    for pk, token in Invite.objects.values_list("pk", "token_hash").iterator():
        if HASHED.fullmatch(token):
            continue
        Invite.objects.filter(pk=pk).update(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), token_prefix=token[:PREFIX_LENGTH]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_invite_token_hash"),
    ]

    operations = [
        migrations.RunPython(hash_tokens, migrations.RunPython.noop, elidable=False),
    ]
