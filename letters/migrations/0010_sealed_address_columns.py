# The columns that stand in for a signer's address (letters/signer_address.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0009_role_names_longer"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="email_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="signature",
            name="email_sealed",
            field=models.BinaryField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="signature",
            name="email_domains",
            field=models.TextField(blank=True),
        ),
    ]
