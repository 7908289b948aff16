from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("letters", "0023_groups")]

    operations: list = []
