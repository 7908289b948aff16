"""Drop the signature table's index on letter_id alone: the (letter_id,
status) index and the unique (letter_id, email) index both lead with it, and
every sign paid for a third btree insert.  Only the index is dropped: the
field's AlterField would also drop and re-add (so re-validate, under lock)
the foreign key on a table that may hold millions of rows."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "letters_signature_letter_id_609a77e3"


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0004_email_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="signature",
                    name="letter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="signatures",
                        to="letters.letter",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "letters_signature" ("letter_id")',
                ),
            ],
        ),
    ]
