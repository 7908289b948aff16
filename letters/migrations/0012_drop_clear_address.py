# The address in clear is gone; the constraints move to its stand-ins.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0011_seal_addresses"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="signature", name="signature_live_email_unique"),
        migrations.RemoveConstraint(model_name="signature", name="signature_withdrawn_erased"),
        migrations.RemoveConstraint(model_name="signature", name="signature_live_has_email"),
        migrations.RemoveField(model_name="signature", name="email"),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ('pending', 'confirmed'))), fields=('letter', 'email_hash'), name='signature_live_address_unique'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'withdrawn'), _negated=True), models.Q(('email_hash', ''), ('email_sealed__isnull', True), ('email_domains', ''), ('name', ''), ('job_title', ''), ('comment', ''), ('team', ''), ('location', '')), _connector='OR'), name='signature_withdrawn_erased'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ('pending', 'confirmed')), _negated=True), models.Q(models.Q(('email_hash', ''), _negated=True), models.Q(('email_sealed__isnull', False), ('erased_at__isnull', False), _connector='OR')), _connector='OR'), name='signature_live_has_address'),
        ),
        migrations.AddConstraint(
            model_name='signature',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('display', 'anonymous'), _negated=True), models.Q(('name', ''), ('job_title', ''), ('comment', ''), ('team', ''), ('location', '')), _connector='OR'), name='signature_anonymous_unnamed'),
        ),
    ]
