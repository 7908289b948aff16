"""Comments apart from signatures (issue 19): an organiser hides one
signer's comment (kept, shown nowhere; the signer told once), and a letter
can turn public comments off."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("letters", "0018_held_signatures")]

    operations = [
        migrations.AddField(
            model_name="letter",
            name="public_comments",
            field=models.BooleanField(
                default=True,
                help_text="Off: the sign form asks for no comment and no comment is shown "
                "anywhere.",
                verbose_name="show signers' comments",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="comment_hidden_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="signature",
            name="comment_hidden_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="signature",
            name="comment_hidden_told_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
