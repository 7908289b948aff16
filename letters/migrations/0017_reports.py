"""Reports and takedown (issue 19): visitors' reports of letters, takedowns
with the organisers' one appeal, the "taken down" letter status and the
moderation kinds of timeline events.

The `kind` choices list the kinds the models hold at this point of the
chain (later migrations add their own)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0016_event_news"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="letter",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("open", "Open for signatures"),
                    ("closed", "Closed"),
                    ("delivered", "Delivered"),
                    ("acknowledged", "Acknowledged"),
                    ("responded", "Responded"),
                    ("archived", "Archived"),
                    ("taken_down", "Taken down"),
                ],
                default="draft",
                max_length=16,
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
            name="Report",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("spam", "Spam or advertising"),
                            ("abuse", "Harassment, hate or threats"),
                            ("personal", "It exposes someone's personal data"),
                            ("false", "Impersonation or false claims"),
                            ("illegal", "Otherwise illegal"),
                            ("other", "Something else"),
                        ],
                        max_length=16,
                        verbose_name="reason",
                    ),
                ),
                ("text", models.TextField(blank=True, max_length=1000, verbose_name="details")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("dismissed", "Dismissed"),
                            ("change_requested", "Organisers asked to change it"),
                            ("taken_down", "Letter taken down"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "letter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="letters.letter",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("outcome", "open")),
                        fields=["letter", "created_at"],
                        name="report_open_idx",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Takedown",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField(verbose_name="public reason")),
                ("previous_status", models.CharField(max_length=16)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("appeal", models.TextField(blank=True)),
                ("appealed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Not decided"),
                            ("reinstated", "Reinstated"),
                            ("rejected", "Rejected"),
                        ],
                        default="",
                        max_length=16,
                    ),
                ),
                ("decision_note", models.TextField(blank=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("reinstated_at", models.DateTimeField(blank=True, null=True)),
                (
                    "appealed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
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
                        related_name="takedowns",
                        to="letters.letter",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("reinstated_at__isnull", True)),
                        fields=("letter",),
                        name="one_standing_takedown",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("appealed_at__isnull", True),
                            models.Q(("appeal", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="takedown_appeal_has_text",
                    ),
                ],
            },
        ),
    ]
