from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("letters", "0022_employers")]

    operations: list = []
