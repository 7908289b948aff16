"""Co-organisers: invitations by email, roles, leaving.  The last owner of a
letter can neither leave nor be demoted or removed."""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters.models import Invitation, Letter, Organiser, OrganiserRole
from letters.queue import enqueue
from letters.services.audit import audit
from letters.services.errors import ServiceError
from letters.tokens import hash_token


@transaction.atomic
def organiser_invite(*, letter: Letter, by: User, email: str, role: str) -> str:
    """Invite someone by email; returns the token (emailed, stored hashed)."""
    if role not in OrganiserRole.values:
        raise ServiceError(_("Choose a role."), field="role")
    email = email.strip().lower()
    if Organiser.objects.filter(letter=letter, user__email__iexact=email).exists():
        raise ServiceError(_("This person already organises the letter."), field="email")
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        letter=letter, email=email, role=role, token_hash=hash_token(token), invited_by=by
    )
    audit(actor=by, action="organiser.invite", letter=letter, target=email, role=role)
    invitation_id = invitation.pk
    enqueue("send_invitation_email", invitation_id, token)
    return token


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Organiser:
    """Accept an invitation as the signed-in user, who must have verified the
    invited address (a forwarded link is useless to anyone else)."""
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=hash_token(token), accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        raise ServiceError(_("This invitation is no longer valid."))
    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise ServiceError(
            _("Sign in with the address the invitation was sent to (%(email)s).")
            % {"email": invitation.email}
        )
    organiser, _created = Organiser.objects.update_or_create(
        letter=invitation.letter, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit(actor=user, action="organiser.join", letter=invitation.letter, role=invitation.role)
    return organiser


def _lock_owners(letter: Letter) -> list[Organiser]:
    return list(
        Organiser.objects.select_for_update().filter(letter=letter, role=OrganiserRole.OWNER)
    )


def _lock_organiser(letter: Letter, organiser_id: int) -> Organiser:
    target = Organiser.objects.select_for_update().filter(pk=organiser_id, letter=letter).first()
    if target is None:
        raise ServiceError(_("This person does not organise the letter."))
    return target


@transaction.atomic
def organiser_set_role(*, letter: Letter, by: User, organiser_id: int, role: str) -> None:
    """Change a co-organiser's role.  Locks the letter's owner rows so two
    owners demoting each other cannot leave the letter without one."""
    if role not in OrganiserRole.values:
        raise ServiceError(_("Choose a role."), field="role")
    owners = _lock_owners(letter)
    target = _lock_organiser(letter, organiser_id)
    if target.role == OrganiserRole.OWNER and role != OrganiserRole.OWNER and len(owners) == 1:
        raise ServiceError(_("A letter needs at least one owner."))
    target.role = role
    target.save(update_fields=["role"])
    audit(actor=by, action="organiser.role", letter=letter, target=str(target.user_id), role=role)


@transaction.atomic
def organiser_remove(*, letter: Letter, by: User, organiser_id: int) -> None:
    """Remove a co-organiser (or leave, when it is oneself); never the last owner."""
    owners = _lock_owners(letter)
    target = _lock_organiser(letter, organiser_id)
    if target.role == OrganiserRole.OWNER and len(owners) == 1:
        raise ServiceError(_("The last owner cannot leave. Make someone else an owner first."))
    target.delete()
    audit(actor=by, action="organiser.remove", letter=letter, target=str(target.user_id))
