"""Behind PgBouncer in transaction mode (DATABASE_PGBOUNCER=1,
config/database.py) a server connection is lent for one transaction, so
nothing may be prepared on it: a statement prepared through one would be
missing on the next.  This test runs in both modes (`make test` sets
neither; run it with DATABASE_PGBOUNCER=1 for the other) and checks the
database session itself."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from letters.models import Signature

pytestmark = pytest.mark.django_db


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_sign_prepares_its_insert_only_where_statements_may_be_prepared(client, open_letter):
    data = {"name": "Ada", "email": "ada@example.org", "display": "public", "consent": "on"}
    response = client.post(reverse("letters:sign", kwargs={"slug": open_letter.slug}), data)

    assert response.status_code == 302
    assert Signature.objects.filter(letter=open_letter).count() == 1
    prepared = prepared_statements()
    if settings.DATABASE_PGBOUNCER:
        assert not settings.SPEED["DATABASE_PREPARED_STATEMENTS"]
        assert connection.settings_dict["OPTIONS"]["prepare_threshold"] is None
        assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert prepared == []
    else:
        assert settings.SPEED["DATABASE_PREPARED_STATEMENTS"]
        assert any("INSERT" in statement for statement in prepared)
