"""Factories and named personas: the one place the tests build data from.

Everything with a service is built through it (letters, versions, organisers'
edits, deliveries, confirmations), so test data obeys the same rules as real
data.  Larger worlds are compositions of these calls: `open_letter` and the
`organiser`/`outsider` fixtures (conftest.py), `build_world`
(tests/security/world.py) and `seed_site` (tests/site_pages.py).

The personas (DESIGN §6):

- ORGANISER, Olivia: owns the letters she starts (the "owner" role);
- EDITOR, Eddie, and VIEWER, Vera: her co-organisers (`add_co_organisers`);
- OUTSIDER, Oscar: a verified account that organises nothing here;
- ADMIN, Ada: staff with two-factor authentication (`make_admin`);
- SIGNER, Sam: signs through the sign form's service (`sign`);
- LEADERSHIP, Casey Chief, CEO: whom the letters are addressed and
  delivered to (`deliver`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, cast

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from letters import services
from letters.emailaddr import canonical_email, mail_address
from letters.employers import employer_for
from letters.models import (
    Delivery,
    Demand,
    Display,
    Employer,
    Letter,
    Organiser,
    OrganiserRole,
    PaperBatch,
    Signature,
    SignatureStatus,
)
from letters.services.employers import EmployerInput
from letters.signer_address import address_hash, open_address, stored_address

PASSWORD = "correct horse battery staple"  # every persona's
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the admin's authenticator


@dataclass(frozen=True)
class Persona:
    email: str
    name: str


ORGANISER = Persona("olivia.organiser@example.org", "Olivia Organiser")
EDITOR = Persona("eddie.editor@example.org", "Eddie Editor")
VIEWER = Persona("vera.viewer@example.org", "Vera Viewer")
OUTSIDER = Persona("oscar.outsider@example.net", "Oscar Outsider")
ADMIN = Persona("ada.admin@example.org", "Ada Admin")
SIGNER = Persona("sam.signer@example.org", "Sam Signer")
LEADERSHIP = services.Recipient("Casey Chief", "CEO")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()  # type: ignore[attr-defined]
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def make_user(**kwargs: Any) -> User:
    """A verified user (typed for mypy: factory_boy returns Any-ish objects)."""
    return cast(User, UserFactory(**kwargs))


def client_for(user: Any | None) -> Client:
    """A test client signed in as `user` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_persona(who: Persona) -> User:
    """`who` as a verified user who signs in with PASSWORD."""
    return make_user(email=who.email, name=who.name)


def make_admin(who: Persona = ADMIN) -> User:
    """Staff with a TOTP authenticator (TOTP_SECRET), as the admin site requires."""
    admin = make_persona(who)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    TOTP.activate(admin, TOTP_SECRET)
    return admin


def add_co_organisers(*letters: Letter) -> dict[str, User]:
    """Eddie joins each of `letters` as an editor and Vera as a viewer."""
    team = {OrganiserRole.EDITOR: make_persona(EDITOR), OrganiserRole.VIEWER: make_persona(VIEWER)}
    for letter in letters:
        for role, user in team.items():
            Organiser.objects.create(letter=letter, user=user, role=role)
    return {str(role): user for role, user in team.items()}


# --- Letters ------------------------------------------------------------------------

STOP_THE_CONTRACT: dict[str, Any] = {
    "title": "Stop the contract",
    "body": "Dear CEO,\n\nWe, the undersigned employees, ask you to act.",
    "demands": ["Condemn the agency's actions", "End the contract", "Publish an ethics policy"],
    "addressees": [(LEADERSHIP.name, LEADERSHIP.role)],
    "translations": [
        services.TranslationInput(
            language="de",
            title="Beenden Sie den Vertrag",
            body="Sehr geehrte Geschäftsführung,\n\nwir bitten Sie zu handeln.",
            demands=["Verurteilen Sie", "Beenden Sie den Vertrag", "Veröffentlichen Sie"],
        )
    ],
}


def open_letter(
    *,
    owner: Any | None = None,
    slug: str = "stop-the-contract",
    allowed_domains: list[str] | None = None,
    goal: int | None = 100,
    published_by: Any | None = None,
    **text: Any,
) -> Letter:
    """A letter created and published through the services: "Stop the
    contract" (with a German translation) unless `text` gives other title,
    body, demands, addressees or translations."""
    fields = STOP_THE_CONTRACT | text
    translations = fields.pop("translations")
    data = services.LetterInput(goal=goal, allowed_domains=allowed_domains or [], **fields)
    letter = services.letter_create(slug=slug, data=data, owner=owner, translations=translations)
    return services.letter_publish(letter=letter, by=published_by)


def record_paper(
    letter: Letter,
    count: int,
    *,
    by: User | None = None,
    corrects: PaperBatch | None = None,
    **fields: Any,
) -> PaperBatch:
    """A batch of paper signatures (or a correction) through the service,
    entered by `by`, else by the letter's first organiser, else a new user."""
    if by is None:
        organiser = Organiser.objects.filter(letter=letter).select_related("user").first()
        by = organiser.user if organiser else make_user()
    data = services.PaperInput(
        count=count,
        collected_on=fields.pop("collected_on", timezone.localdate()),
        where_how=fields.pop("where_how", "Sheets passed round at the depot"),
        **fields,
    )
    return services.paper_batch_record(letter=letter, by=by, data=data, corrects=corrects)


def current(letter: Letter) -> Letter:
    """The letter as stored now, with its current version loaded."""
    return Letter.objects.select_related("current_version").get(pk=letter.pk)


def edit_letter(letter: Letter, *, by: Any, **changes: Any) -> Letter:
    """An organiser's edit through the service (a new version, if the letter
    is open and its text changed).  What `changes` does not give keeps the
    letter's title and addressees, and LetterInput's defaults otherwise."""
    data = {
        "title": letter.title,
        "addressees": [(a.name, a.role) for a in letter.addressees.all()],
        "body": letter.current_version.body if letter.current_version else "",
        "demands": list(
            Demand.objects.filter(version_id=letter.current_version_id).values_list(
                "text", flat=True
            )
        ),
        "employers": [
            EmployerInput(name=e.name, domains=list(e.domains)) for e in letter.employers.all()
        ],
        "accept_supporters": letter.accept_supporters,
        **changes,
    }
    services.letter_edit(letter=letter, by=by, data=services.LetterInput(**data))
    return current(letter)


def letter_form(**overrides: str) -> dict[str, str]:
    """What the organiser's letter form posts (new letter or edit)."""
    return {
        "slug": "new-letter",
        "title": "A new letter",
        "addressees": "Casey Chief, CEO\nBea Board, Chair",
        "body": "Dear Casey,\n\nWe ask for **change**.",
        "demands": "First demand\nSecond demand",
        "language": "en",
        "employers": "northwind.example, eu.northwind.example",
        "goal": "250",
        "closes_at": "",
        "list_public_signatories": "on",
        "show_names_after": "",
        "change_note": "",
        **overrides,
    }


def deliver(
    letter: Letter,
    by: Any,
    *,
    method: str = "in_person",
    to: tuple[services.Recipient, ...] = (LEADERSHIP,),
    **details: Any,
) -> tuple[Delivery, list[services.IssuedLink]]:
    """Delivered now, through the service, to `to` (each gets a leadership
    link); `details`: note, respond_by, links_expire_at."""
    return services.letter_deliver(
        letter=letter,
        by=by,
        method=method,
        delivered_at=timezone.now(),
        recipients=list(to),
        **details,
    )


# --- Signatures ---------------------------------------------------------------------


def pending_signature(letter: Letter, **fields: Any) -> Signature:
    """A pending signature whose confirmation email went out: one row
    (`fields`: name, email, team, location, comment, display, pk...; the
    email is hashed and sealed as the sign service stores it, and an
    anonymous signer's name and details are not stored).

    Not through the sign service on purpose: its row would still owe that
    email, which a transactional test would then receive; `sign` is the
    sign form's way in.  The employer is the one the address's domain
    decides, as the service decides it."""
    address = fields.pop("email", None) or f"signer-{secrets.token_hex(6)}@example.org"
    if fields.get("display") == Display.ANONYMOUS:  # as the service stores it
        fields = {**fields, "name": "", "job_title": "", "team": "", "location": "", "comment": ""}
    deliver_to = mail_address(address).deliver_to
    employer = employer_for(deliver_to, list(Employer.objects.filter(letter=letter)))
    row: dict[str, Any] = {
        **stored_address(canonical_email(address), deliver_to=deliver_to),
        "employer": employer,
        "letter": letter,
        "version_id": letter.current_version_id,
        "secret": secrets.token_urlsafe(18),
        "emails_sent": 1,
        "status": SignatureStatus.PENDING,
        "created_at": timezone.now(),
    }
    return Signature.objects.create(**(row | fields))


def confirmed_signature(letter: Letter, *, wants_updates: bool = False, **fields: Any) -> Signature:
    """A signature that went through sign and confirm: the confirmation (and
    the count) is the service's.  `wants_updates`: the signer opts in to
    updates afterwards."""
    signature = pending_signature(letter, **fields)
    services.signature_confirm(signature=signature)
    if wants_updates:
        Signature.objects.filter(pk=signature.pk).update(wants_updates=True)
    signature.refresh_from_db()
    return signature


def sign(letter: Letter, who: Persona = SIGNER, **details: Any) -> Signature:
    """`who` signs through the sign form's service: a pending row whose
    confirmation email is owed."""
    services.signature_create(letter=letter, email=who.email, name=who.name, **details)
    return signature_of(letter, who.email).get(status=SignatureStatus.PENDING)


def signature_of(letter: Letter | None, address: str) -> QuerySet[Signature]:
    """The signatures of `address` (on `letter`, or on any letter), found as
    the site finds them: by the keyed hash of its canonical form."""
    found = Signature.objects.filter(email_hash=address_hash(canonical_email(address)))
    return found if letter is None else found.filter(letter=letter)


def address_of(signature: Signature) -> str:
    """The address sealed on `signature`, opened with the test stack's
    private key (as an email worker would)."""
    return open_address(signature)


def api_count_within(client: Any, letter: Letter, expected: int, seconds: float) -> int:
    """The API's confirmed count, read until it is `expected` or `seconds`
    have passed (counts are folded every COUNT_INTERVAL)."""
    url = reverse("api_letter", kwargs={"slug": letter.slug})
    deadline = time.monotonic() + seconds
    count = json.loads(client.get(url).content)["confirmed_count"]
    while time.monotonic() < deadline and count != expected:
        time.sleep(0.1)
        count = json.loads(client.get(url).content)["confirmed_count"]
    return int(count)
