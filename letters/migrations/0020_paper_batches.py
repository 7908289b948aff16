"""Paper signatures in batches (issue 19): the PaperBatch table, the two
timeline kinds for recording and correcting a batch, and each letter's old
`paper_count` turned into one initial batch (no place, no author: the old
total was a bare number), so the total stays the sum of the batches.

The `kind` choices below list every kind the models hold at this point of
the chain (the reports' kinds of 0017 included)."""

from __future__ import annotations

from typing import Any

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def batches_from_totals(apps: Any, schema_editor: Any) -> None:
    """One batch per letter that had signatures on paper, dated the day the
    letter was published (else made); blank `where_how` marks it as the old
    total (the organiser pages say so)."""
    Letter = apps.get_model("letters", "Letter")
    PaperBatch = apps.get_model("letters", "PaperBatch")
    batches = [
        PaperBatch(
            letter_id=letter.pk,
            count=letter.paper_count,
            collected_on=(letter.published_at or letter.created_at).date(),
        )
        for letter in Letter.objects.filter(paper_count__gt=0).only(
            "pk", "paper_count", "published_at", "created_at"
        )
    ]
    PaperBatch.objects.bulk_create(batches, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0019_comments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                    ("change_request", "Change requested by the moderators"),
                    ("appealed", "Takedown appealed"),
                    ("appeal_rejected", "Appeal rejected"),
                    ("dismissed", "Reports dismissed"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="PaperBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("count", models.PositiveIntegerField(verbose_name="signatures")),
                ("collected_on", models.DateField(verbose_name="collected on")),
                (
                    "where_how",
                    models.CharField(blank=True, max_length=300, verbose_name="where and how"),
                ),
                (
                    "scan_sha256",
                    models.CharField(
                        blank=True,
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[0-9a-f]{64}$",
                                "A SHA-256 checksum is 64 characters, 0–9 and a–f.",
                            )
                        ],
                        verbose_name="SHA-256 of the scan",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "corrects",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="corrected_by",
                        to="letters.paperbatch",
                    ),
                ),
                (
                    "entered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "letter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="paper_batches",
                        to="letters.letter",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "paper batches",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("scan_sha256", ""),
                            ("scan_sha256__regex", "^[0-9a-f]{64}$"),
                            _connector="OR",
                        ),
                        name="paper_batch_sha256",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("corrects", models.F("id")), _negated=True),
                        name="paper_batch_not_itself",
                    ),
                ],
            },
        ),
        migrations.RunPython(batches_from_totals, migrations.RunPython.noop, elidable=True),
    ]
