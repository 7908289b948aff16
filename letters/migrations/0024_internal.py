from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("letters", "0023_groups")]

    operations = [
        migrations.AddField(
            model_name="letter",
            name="internal",
            field=models.BooleanField(default=False, verbose_name="internal first"),
        ),
        migrations.AddField(
            model_name="letter",
            name="public_at_count",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="go public at this many verified signatures"
            ),
        ),
        migrations.AlterField(
            model_name="letterevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("published", "Published"),
                    ("new_version", "New version"),
                    ("closed", "Closed"),
                    ("delivered", "Delivered"),
                    ("acknowledged", "Acknowledged"),
                    ("response", "Response"),
                    ("update", "Organiser update"),
                    ("archived", "Archived"),
                    ("deadline", "Response deadline passed"),
                    ("paper", "Paper signatures recorded"),
                    ("paper_corrected", "Paper signatures corrected"),
                    ("taken_down", "Taken down by the moderators"),
                    ("reinstated", "Reinstated by the moderators"),
                    ("went_public", "Made public"),
                    ("change_request", "Change requested by the moderators"),
                    ("appealed", "Takedown appealed"),
                    ("appeal_rejected", "Appeal rejected"),
                    ("dismissed", "Reports dismissed"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="ReadPass",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField()),
                (
                    "letter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="read_passes",
                        to="letters.letter",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["expires_at"], name="letters_rea_expires_279157_idx")
                ],
            },
        ),
    ]
