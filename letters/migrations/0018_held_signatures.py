"""Issue 19, held signatures: why a signature is held (`Signature.held_reason`,
empty for signatures held before reasons were kept) and the office address
ranges a letter's owners add (`OfficeRange`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0017_reports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="held_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("burst", "Many confirmations from one network within minutes"),
                    ("sustained", "Many confirmations from one network within a day"),
                ],
                help_text="Why a flagged signature is held (which rate limit); empty when not held.",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="OfficeRange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "network",
                    models.CharField(
                        help_text="Normalised CIDR, e.g. 192.0.2.0/24.", max_length=49
                    ),
                ),
                ("label", models.CharField(blank=True, max_length=80)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "added_by",
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
                        related_name="office_ranges",
                        to="letters.letter",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("letter", "network"), name="office_range_unique"
                    )
                ],
            },
        ),
    ]
