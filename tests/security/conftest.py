"""Fixtures for the security tests.

`world` is built once per test module, inside a transaction that is rolled
back when the module is done; every test runs in a savepoint of it (the `db`
fixture), so whatever a test writes is undone before the next test, and the
seeding (five users, two letters, signatures, a delivery) is paid once per
module instead of once per test.  Transactional tests (emails on commit, the
browser) build their own with `build_world()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def _module_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: World, db: None) -> World:
    for letter in (_module_world.letter, _module_world.delivered):
        letter.refresh_from_db()
    return _module_world
