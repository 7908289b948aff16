"""Organising groups: creating one, inviting members by email, their roles,
removing and leaving, and which group a letter belongs to.

Who may call what is the views' (`letters.access`: `group_view` for the
group's pages, `organiser_view(OWN)` for a letter's group); the services
keep the rules that hold whoever calls:
- the creator of a group is its first owner; a group never loses its last
  owner (demoting, removing or leaving), decided under a lock of the
  group's owner rows, so two owners demoting each other at once cannot
  both succeed;
- an invitation is accepted only by an account that verified the invited
  address, once; accepting never changes the role of someone already a
  member (an old invitation cannot demote a group's last owner);
- a letter goes into a group only by someone who may put letters there
  (`GroupCapability.ASSIGN`: an organiser or owner of the group); taking it
  out needs no group role (a letter's owner can always take their letter
  back, a group's owner can always take a letter off their group).

Access is computed from these rows on every request (letters/access.py):
a member removed here loses the letters of the group on their next request.
"""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters import notifications
from letters.access import GroupCapability, group_role_can
from letters.models import Group, GroupInvitation, GroupMember, GroupRole, Letter
from letters.queue import enqueue
from letters.services.audit import audit
from letters.services.emailing import deliver
from letters.services.errors import ServiceError
from letters.services.slugs import slug_from_title
from letters.tokens import hash_token

SLUG_MAX = 80  # Group.slug's
# Words of the group area's own addresses (/organise/groups/new/,
# /organise/groups/invitations/<token>/): a group there could not be reached.
RESERVED_SLUGS = frozenset({"new", "invitations"})
SLUG_ATTEMPTS = 20


def _group_slug_taken(slug: str) -> bool:
    return slug in RESERVED_SLUGS or Group.objects.filter(slug=slug).exists()


def _group_insert(*, slug: str, name: str, description: str) -> Group:
    """INSERT the group at `slug`, or, when `slug` is empty, at the first free
    address made from its name (`name`, `name-2`, ...).  The unique index
    decides between two creations wanting the same address at once."""
    base = slug or slug_from_title(name)
    if not base:
        raise ServiceError(
            _("The name has no letters or digits to make a web address from: type one."),
            field="slug",
        )
    if slug and slug in RESERVED_SLUGS:
        raise ServiceError(_("This address is taken; choose another."), field="slug")
    for _attempt in range(SLUG_ATTEMPTS):
        wanted, n = base, 1
        while not slug and _group_slug_taken(wanted):
            n += 1
            suffix = f"-{n}"
            wanted = base[: SLUG_MAX - len(suffix)].rstrip("-_") + suffix
        try:
            with transaction.atomic():
                return Group.objects.create(slug=wanted, name=name, description=description)
        except IntegrityError:
            if slug:
                break
    raise ServiceError(_("This address is taken; choose another."), field="slug")


@transaction.atomic
def group_create(*, by: User, name: str, slug: str = "", description: str = "") -> Group:
    """A new group at `slug` (or one made from its name); `by` is its owner."""
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the group a name."), field="name")
    group = _group_insert(slug=slug.strip(), name=name, description=description.strip())
    GroupMember.objects.create(group=group, user=by, role=GroupRole.OWNER)
    audit(actor=by, action="group.create", target=str(group.pk), slug=group.slug)
    return group


@transaction.atomic
def group_update(*, group: Group, by: User, name: str, description: str) -> Group:
    """Change the group's name and description (its address stays: links to
    its page keep working)."""
    name = name.strip()
    if not name:
        raise ServiceError(_("Give the group a name."), field="name")
    group.name, group.description = name, description.strip()
    group.save(update_fields=["name", "description"])
    audit(actor=by, action="group.update", target=str(group.pk))
    return group


@transaction.atomic
def group_invite(*, group: Group, by: User, email: str, role: str, language: str) -> str:
    """Invite someone by email to join with `role`; returns the token
    (emailed in `language`, stored hashed)."""
    if role not in GroupRole.values:
        raise ServiceError(_("Choose a role."), field="role")
    email = email.strip().lower()
    if GroupMember.objects.filter(group=group, user__email__iexact=email).exists():
        raise ServiceError(_("This person is already a member of the group."), field="email")
    token = secrets.token_urlsafe(24)
    invitation = GroupInvitation.objects.create(
        group=group,
        email=email,
        role=role,
        token_hash=hash_token(token),
        language=language,
        invited_by=by,
    )
    audit(actor=by, action="group.invite", target=email, group=group.pk, role=role)
    enqueue("send_group_invitation_email", invitation.pk, token)
    return token


def group_invitation_email_send(*, invitation_id: int, token: str) -> str:
    """The task's body: email an invitation still open (else skip it)."""
    invitation = (
        GroupInvitation.objects.select_related("group", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return "skipped"
    deliver(notifications.group_invitation_email(invitation, token))
    return "sent"


@transaction.atomic
def group_invitation_accept(*, token: str, user: User) -> GroupMember:
    """Accept an invitation as the signed-in user, who must have verified the
    invited address (a forwarded link is useless to anyone else).  Someone
    already a member keeps their role."""
    invitation = (
        GroupInvitation.objects.select_for_update()
        .select_related("group")
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
    member, _created = GroupMember.objects.get_or_create(
        group=invitation.group, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit(actor=user, action="group.join", target=str(invitation.group_id), role=member.role)
    return member


def _lock_owners(group: Group) -> list[GroupMember]:
    return list(GroupMember.objects.select_for_update().filter(group=group, role=GroupRole.OWNER))


def _lock_member(group: Group, member_id: int) -> GroupMember:
    target = GroupMember.objects.select_for_update().filter(pk=member_id, group=group).first()
    if target is None:
        raise ServiceError(_("This person is not a member of the group."))
    return target


@transaction.atomic
def group_member_set_role(*, group: Group, by: User, member_id: int, role: str) -> GroupMember:
    """Change a member's role; never the group's last owner's to another.
    Locks the group's owner rows first (see the module's docstring)."""
    if role not in GroupRole.values:
        raise ServiceError(_("Choose a role."), field="role")
    owners = _lock_owners(group)
    target = _lock_member(group, member_id)
    if target.role == GroupRole.OWNER and role != GroupRole.OWNER and len(owners) == 1:
        raise ServiceError(_("A group needs at least one owner."))
    target.role = role
    target.save(update_fields=["role"])
    audit(actor=by, action="group.role", target=str(target.user_id), group=group.pk, role=role)
    return target


@transaction.atomic
def group_member_remove(*, group: Group, by: User, member_id: int) -> None:
    """Remove a member (or leave, when it is oneself); never the last owner.
    From the next request on they organise none of the group's letters
    (unless the letter's own organisers invited them)."""
    owners = _lock_owners(group)
    target = _lock_member(group, member_id)
    if target.role == GroupRole.OWNER and len(owners) == 1:
        raise ServiceError(
            _("The last owner cannot leave the group. Make someone else an owner first.")
        )
    target.delete()
    audit(actor=by, action="group.remove", target=str(target.user_id), group=group.pk)


@transaction.atomic
def letter_group_set(*, letter: Letter, by: User, group: Group | None) -> Letter:
    """Put the letter in `group` (None: take it out of its group).  The
    caller is an owner of the letter (the view's `organiser_view(OWN)`);
    putting it in a group also needs `by` to be an organiser or owner of
    that group, read under a lock of their membership so a removal at the
    same moment is either before (refused) or after (the letter is in)."""
    if group is not None:
        member = GroupMember.objects.select_for_update().filter(group=group, user=by).first()
        if member is None or not group_role_can(member.role, GroupCapability.ASSIGN):
            raise ServiceError(
                _("Only the group's organisers and owners can put letters in it."),
                field="group",
            )
    Letter.objects.filter(pk=letter.pk).update(group=group)
    letter.group = group
    audit(
        actor=by,
        action="letter.group",
        letter=letter,
        target=str(group.pk) if group is not None else "",
    )
    return letter


@transaction.atomic
def group_letter_remove(*, group: Group, by: User, letter_slug: str) -> None:
    """A group's owner takes a letter off the group (a conditional update:
    only while the letter is still in this group)."""
    letter = Letter.objects.filter(slug=letter_slug, group=group).first()
    if letter is None or not Letter.objects.filter(pk=letter.pk, group=group).update(group=None):
        raise ServiceError(_("This letter is not in the group."))
    audit(actor=by, action="letter.group", letter=letter, target="", removed_from=group.pk)
