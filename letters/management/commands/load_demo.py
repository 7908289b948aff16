"""Load the demo letter (English and German), its organiser and a few signers.

Idempotent: running it again changes nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, cast

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from letters import services
from letters.demo_coalition import DEMO_COALITION, DEMO_COALITION_SIGNERS
from letters.demo_content import DEMO_LETTER, DEMO_ORGANISER, DEMO_SIGNERS
from letters.emailaddr import canonical_email
from letters.employers import employer_for
from letters.models import (
    DeliveryMethod,
    Demand,
    Employer,
    Letter,
    Signature,
    SignatureStatus,
)
from letters.services import SignerDetails
from letters.services.employers import EmployerInput
from letters.signer_address import stored_address


class Command(BaseCommand):
    help = "Load the demo letter, a demo organiser and demo signatures."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        user = User.objects.filter(email=DEMO_ORGANISER["email"]).first()
        if user is None:
            user = User.objects.create_user(
                email=DEMO_ORGANISER["email"],
                password=DEMO_ORGANISER["password"],
                name=DEMO_ORGANISER["name"],
            )
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        demo = cast(dict[str, Any], DEMO_LETTER)
        if Letter.objects.filter(slug=demo["slug"]).exists():
            self.stdout.write("Demo letter already loaded.")
        else:
            self._load_letter(user, demo)
        if Letter.objects.filter(slug=DEMO_COALITION["slug"]).exists():
            self.stdout.write("Demo coalition letter already loaded.")
        else:
            self._load_coalition(user, cast(dict[str, Any], DEMO_COALITION))

    def _load_letter(self, user: Any, demo: dict[str, Any]) -> None:
        translations = [
            services.TranslationInput(
                language=lang, title=t["title"], body=t["body"], demands=list(t["demands"])
            )
            for lang, t in demo["translations"].items()
        ]
        data = services.LetterInput(
            title=demo["title"],
            body=demo["body"],
            demands=list(demo["demands"]),
            addressees=[(a["name"], a["role"]) for a in demo["addressees"]],
            language=demo["language"],
            goal=demo["goal"],
            allowed_domains=list(demo["allowed_domains"]),
            change_note=demo["change_note"],
        )
        letter = services.letter_create(
            slug=demo["slug"], data=data, owner=user, translations=translations
        )
        services.letter_publish(letter=letter, by=user)
        # Demo signers are seeded as already confirmed (no emails are sent for
        # them); the counts are then recomputed from the rows.
        now = timezone.now()
        Signature.objects.bulk_create(
            Signature(
                letter=letter,
                version=letter.current_version,
                **stored_address(canonical_email(s["email"])),
                **SignerDetails(
                    name=s["name"],
                    job_title=s["job_title"],
                    team=s["team"],
                    location=s["location"],
                    comment=s["comment"],
                    display=s["display"],
                ).cleaned(),
                status=SignatureStatus.CONFIRMED,
                secret=secrets.token_urlsafe(18),
                emails_sent=1,
                confirmed_at=now - timedelta(minutes=len(DEMO_SIGNERS) - i),
            )
            for i, s in enumerate(cast(list[dict[str, str]], DEMO_SIGNERS))
        )
        services.counts_recount(letter_id=letter.pk)
        self.stdout.write(self.style.SUCCESS(f"Loaded demo letter /letters/{letter.slug}/"))

    def _load_coalition(self, user: Any, demo: dict[str, Any]) -> None:
        """The coalition letter: three employers, signers from each (and
        one other supporter), delivered to each employer's leadership;
        Northwind acknowledged, Contoso responded, Fabrikam is silent."""
        data = services.LetterInput(
            title=demo["title"],
            body=demo["body"],
            demands=list(demo["demands"]),
            addressees=[(a["name"], a["role"]) for a in demo["addressees"]],
            language=demo["language"],
            goal=demo["goal"],
            employers=[
                EmployerInput(name=e["name"], domains=list(e["domains"])) for e in demo["employers"]
            ],
            accept_supporters=demo["accept_supporters"],
            change_note=demo["change_note"],
        )
        letter = services.letter_create(slug=demo["slug"], data=data, owner=user)
        services.letter_publish(letter=letter, by=user)
        employers = list(Employer.objects.filter(letter=letter))
        now = timezone.now()
        rows = []
        for i, s in enumerate(DEMO_COALITION_SIGNERS):
            address = canonical_email(s["email"])
            employer = employer_for(address, employers)
            rows.append(
                Signature(
                    letter=letter,
                    version=letter.current_version,
                    employer=employer,
                    work_address=employer is not None,
                    **stored_address(address),
                    **SignerDetails(name=s["name"], team=s["team"], display=s["display"]).cleaned(),
                    status=SignatureStatus.CONFIRMED,
                    secret=secrets.token_urlsafe(18),
                    emails_sent=1,
                    confirmed_at=now - timedelta(hours=len(DEMO_COALITION_SIGNERS) - i),
                )
            )
        Signature.objects.bulk_create(rows)
        services.counts_recount(letter_id=letter.pk)
        by_name = {e.name: e for e in employers}
        links = {}
        for employer, addressee in zip(employers, demo["addressees"], strict=True):
            _delivery, issued = services.letter_deliver(
                letter=letter,
                by=user,
                method=DeliveryMethod.EMAIL,
                delivered_at=now - timedelta(days=12),
                recipients=[services.Recipient(addressee["name"], addressee["role"])],
                respond_by=now - timedelta(days=2),
                employer=employer,
            )
            links[employer.name] = issued[0].link
        services.letter_acknowledge(link=links[demo["acknowledged"]])
        answer = demo["response"]
        demands = list(Demand.objects.filter(version=letter.current_version).order_by("position"))
        services.letter_respond(
            letter=letter,
            statement=answer["statement"],
            answers={d.pk: a for d, a in zip(demands, answer["answers"], strict=True)},
            link=links[answer["employer"]],
            employer=by_name[answer["employer"]],
        )
        self.stdout.write(
            self.style.SUCCESS(f"Loaded demo coalition letter /letters/{letter.slug}/")
        )
