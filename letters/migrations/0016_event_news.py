"""Events emailed together: which fan-out took an event's emails, and the
response a "response" event announces (so its email can quote it).

Events already on the timeline were emailed one by one before this: they
are marked as taken, so that no fan-out sends them again."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def mark_existing(apps: Any, schema_editor: Any) -> None:
    LetterEvent = apps.get_model("letters", "LetterEvent")
    Response = apps.get_model("letters", "Response")
    LetterEvent.objects.filter(news_claim="").update(news_claim="before-0016")
    for event in LetterEvent.objects.filter(kind="response", response__isnull=True).iterator():
        # The response was written just before its event, in one transaction.
        response = (
            Response.objects.filter(letter_id=event.letter_id, created_at__lte=event.created_at)
            .order_by("-created_at", "-id")
            .first()
        )
        if response is not None:
            LetterEvent.objects.filter(pk=event.pk).update(response=response)


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0015_admin_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="letterevent",
            name="news_claim",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="letterevent",
            name="response",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="letters.response",
            ),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop, elidable=True),
    ]
