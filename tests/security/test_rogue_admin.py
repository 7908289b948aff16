"""A rogue admin (DESIGN §2 rule 1: only an admin sees an anonymous signer,
and every admin view of personal data is written to the audit log).  The MFA
gate and the audited signature page are proven in
letters/tests/test_exports.py; here: the admin's list of signatures cannot be
used to look someone up without leaving a trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from letters.models import AuditLog, Signature
from letters.signer_address import address_hash, domain_tag
from tests.security.world import ANON_EMAIL, ANON_NAME, World

# A lookup in the list's URL, with a value that finds the anonymous signer and
# one that finds no one.  The address is stored only as its keyed hash and
# the keyed tags of its domains: a lookup by either is still a lookup by address.
LOOKUPS: dict[str, Callable[[], tuple[str, str]]] = {
    "email_hash": lambda: (address_hash(ANON_EMAIL), address_hash("never.signed@example.org")),
    "email_domains__contains": lambda: (domain_tag("example.org"), domain_tag("never.example")),
    "name__icontains": lambda: (ANON_NAME.split()[0], "Nobody"),
}


@pytest.mark.parametrize("lookup", LOOKUPS)
def test_looking_up_a_signer_in_the_admin_list_is_refused_or_audited(
    world: World, lookup: str
) -> None:
    hit, miss = LOOKUPS[lookup]()
    # The hit finds the signer's row in the database, except by name: an
    # anonymous signer's name is not stored at all.
    assert Signature.objects.filter(**{lookup: hit}).exists() is (lookup != "name__icontains")
    assert not Signature.objects.filter(**{lookup: miss}).exists()
    admin = world.client("admin")
    audited_before = AuditLog.objects.filter(action__startswith="admin.").count()

    found = admin.get("/admin/letters/signature/", {lookup: hit})
    not_found = admin.get("/admin/letters/signature/", {lookup: miss})

    audited = AuditLog.objects.filter(action__startswith="admin.").count() > audited_before
    tells = [r.status_code == 200 and r.context["cl"].result_count for r in (found, not_found)]
    assert audited or tells[0] == tells[1], f"{lookup}: {tells}, audited: {audited}"


def test_the_admin_list_of_signatures_names_no_one(world: World) -> None:
    listing = world.client("admin").get("/admin/letters/signature/")

    assert listing.status_code == 200
    page = listing.content.decode()
    assert ANON_NAME not in page
    assert ANON_EMAIL not in page


def test_the_audit_log_cannot_be_changed_or_deleted_in_the_admin(world: World) -> None:
    admin = world.client("admin")
    admin.get(f"/admin/letters/signature/{world.anonymous[world.letter.pk].pk}/change/")
    entry = AuditLog.objects.get(action="admin.view_signature")

    delete = admin.post(f"/admin/letters/auditlog/{entry.pk}/delete/", {"post": "yes"})
    change = admin.post(f"/admin/letters/auditlog/{entry.pk}/change/", {"action": "nothing"})
    bulk = admin.post(
        "/admin/letters/auditlog/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert delete.status_code == 403
    assert change.status_code == 403
    assert bulk.status_code in {200, 302, 403}
    assert AuditLog.objects.get(pk=entry.pk).action == "admin.view_signature"
