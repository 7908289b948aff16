"""Factories and named personas for the letters tests."""

from __future__ import annotations

import secrets
from typing import Any, cast

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from letters import services
from letters.models import Display, Letter, Signature, SignatureStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()  # type: ignore[attr-defined]
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


def make_user(**kwargs: Any) -> User:
    """A verified user (typed for mypy: factory_boy returns Any-ish objects)."""
    return cast(User, UserFactory(**kwargs))


def open_letter(
    *,
    owner: Any | None = None,
    slug: str = "stop-the-contract",
    allowed_domains: list[str] | None = None,
    goal: int | None = 100,
) -> Letter:
    letter = services.letter_create(
        slug=slug,
        title="Stop the contract",
        body="Dear CEO,\n\nWe, the undersigned employees, ask you to act.",
        demands=["Condemn the agency's actions", "End the contract", "Publish an ethics policy"],
        addressees=[("Casey Chief", "CEO")],
        owner=owner,
        goal=goal,
        allowed_domains=allowed_domains,
        translations=[
            services.TranslationInput(
                language="de",
                title="Beenden Sie den Vertrag",
                body="Sehr geehrte Geschäftsführung,\n\nwir bitten Sie zu handeln.",
                demands=["Verurteilen Sie", "Beenden Sie den Vertrag", "Veröffentlichen Sie"],
            )
        ],
    )
    return services.letter_publish(letter=letter)


def confirmed_signature(
    letter: Letter,
    *,
    name: str,
    email: str,
    display: str = Display.PUBLIC,
    team: str = "",
    location: str = "",
    comment: str = "",
) -> Signature:
    """A signature that went through sign and confirm (counts via the service)."""
    signature = Signature.objects.create(
        letter=letter,
        version_id=letter.current_version_id,  # type: ignore[misc]
        email=email,
        name=name,
        team=team,
        location=location,
        comment=comment,
        display=display,
        secret=secrets.token_urlsafe(18),
        emails_sent=1,
        status=SignatureStatus.PENDING,
        created_at=timezone.now(),
    )
    services.signature_confirm(signature=signature)
    signature.refresh_from_db()
    return signature
