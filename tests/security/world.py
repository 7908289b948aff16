"""A seeded world for the security tests: two letters with the same team of
organisers, a public and an anonymous signer on each, a signer holding the
links of a pending signature, a delivery with a leadership link, and one
client per role.

Roles (DESIGN §1), in the order the matrix lists them:

- visitor: anyone, no account;
- signer: holds the emailed links (/s/ /w/ /v/ /u/) of their own signature;
- outsider: a verified account that organises nothing here;
- viewer, editor, owner: the organiser roles on both letters;
- group_viewer, group_organiser, group_owner: the roles of the organising
  group both letters belong to (no organiser row on either letter);
- removed: a former member of that group, removed from it;
- leadership: holds a delivery's /l/ link;
- admin: staff with two-factor authentication (TOTP) turned on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from accounts.models import User
from letters import models, services
from letters.models import (
    Display,
    Group,
    GroupInvitation,
    GroupMember,
    GroupRole,
    Invitation,
    LeadershipLink,
    Letter,
    Organiser,
    OrganiserRole,
    Signature,
)
from letters.tests.factories import (
    ORGANISER,
    OUTSIDER,
    Persona,
    add_co_organisers,
    confirmed_signature,
    deliver,
    make_admin,
    make_persona,
    open_letter,
    sign,
)
from letters.tokens import Purpose, hash_token, make_token

ROLES = (
    "visitor", "signer", "outsider", "viewer", "editor", "owner",
    "group_viewer", "group_organiser", "group_owner", "removed", "leadership", "admin",
)  # fmt: skip
NO_ACCOUNT = ("visitor", "signer", "leadership")
ORGANISER_ROLES = ("viewer", "editor", "owner")
# The matrix's group roles: members of the organising group of both letters.
GROUP_ROLES = {
    "group_viewer": GroupRole.VIEWER,
    "group_organiser": GroupRole.ORGANISER,
    "group_owner": GroupRole.OWNER,
}
GROUP_PERSONAS = {
    "group_owner": Persona("gus.groupowner@example.org", "Gus Groupowner"),
    "group_organiser": Persona("grete.grouporganiser@example.org", "Grete Grouporganiser"),
    "group_viewer": Persona("gil.groupviewer@example.org", "Gil Groupviewer"),
    "removed": Persona("remy.removed@example.org", "Remy Removed"),
}

# The anonymous signer whose identity must never reach anyone but an admin.
ANON_NAME = "Zanzibar Quixotic"
ANON_EMAIL = "zq.hidden@example.org"
ANON_TEAM = "Skunkworks-Ultraviolet"
ANON_LOCATION = "Outpost Nine"
ANON_COMMENT = "Quietly furious about the contract"

PUBLIC_NAME = "Pia Public"
PUBLIC_EMAIL = "pia.public@example.org"

# A token of the right shape that names nothing (every other role uses it).
JUNK_TOKEN = "bm90aGluZw:1uAbCd:0123456789abcdefghijklmnopqrstuvwxyzABCDE"

SIGNER_LINKS = {
    "s": Purpose.CONFIRM,
    "w": Purpose.WITHDRAW,
    "v": Purpose.NEW_VERSION,
    "u": Purpose.UNSUBSCRIBE,
    "a": Purpose.PERSONAL,
}


@dataclass
class World:
    letter: Letter  # open for signatures
    delivered: Letter  # delivered to leadership (the /l/ link is its)
    users: dict[str, User]  # outsider, viewer, editor, owner, the group's, removed, admin
    signer: Signature  # pending; the signer role holds its links
    signer_tokens: dict[str, str]  # "s" "w" "v" "u" "a" -> token
    leadership_token: str
    link: LeadershipLink
    group: Group  # both letters' organising group
    public: dict[int, Signature] = field(default_factory=dict)  # letter id -> signature
    anonymous: dict[int, Signature] = field(default_factory=dict)  # letter id -> signature

    def letter_named(self, which: str) -> Letter:
        return self.letter if which == "open" else self.delivered

    def membership(self, letter: Letter, role: str) -> Organiser:
        return Organiser.objects.get(letter=letter, user=self.users[role])

    def group_membership(self, role: str) -> GroupMember:
        return GroupMember.objects.get(group=self.group, user=self.users[role])

    def group_member_id(self, role: str) -> int:
        """The id of `role`'s membership of the group (0 once they are gone)."""
        found = GroupMember.objects.filter(group=self.group, user=self.users[role]).first()
        return found.pk if found is not None else 0

    def client(self, role: str, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        if role not in NO_ACCOUNT:
            client.force_login(self.users[role])
        return client

    def clients(self, **kwargs: Any) -> dict[str, Client]:
        return {role: self.client(role, **kwargs) for role in ROLES}


def sign_both(letter: Letter) -> tuple[Signature, Signature]:
    """A public and an anonymous confirmed signer, both wanting updates."""
    public = confirmed_signature(
        letter,
        name=PUBLIC_NAME,
        email=PUBLIC_EMAIL,
        team="Data",
        location="Berlin",
        comment="Proud to sign",
        wants_updates=True,
    )
    anonymous = confirmed_signature(
        letter,
        name=ANON_NAME,
        email=ANON_EMAIL,
        display=Display.ANONYMOUS,
        team=ANON_TEAM,
        location=ANON_LOCATION,
        comment=ANON_COMMENT,
        wants_updates=True,
    )
    return public, anonymous


def build_world() -> World:
    """The personas (letters/tests/factories.py) on two letters of the
    organiser's; Sam signs the open one, Casey Chief gets the other."""
    owner = make_persona(ORGANISER)
    letter = open_letter(owner=owner)
    delivered = open_letter(owner=owner, slug="raise-the-floor", goal=3)
    users = {
        "owner": owner,
        **add_co_organisers(letter, delivered),
        "outsider": make_persona(OUTSIDER),
        "admin": make_admin(),
    }
    group = build_group(letter, delivered, users)
    signed = {each.pk: sign_both(each) for each in (letter, delivered)}
    signer = sign(letter, wants_updates=True)
    _delivery, (issued,) = deliver(
        delivered, by=owner, method="email", note="Handed to the CEO's office"
    )
    return World(
        letter=letter,
        delivered=delivered,
        users=users,
        signer=signer,
        signer_tokens={prefix: make_token(signer, p) for prefix, p in SIGNER_LINKS.items()},
        leadership_token=issued.token,
        link=issued.link,
        group=group,
        public={pk: public for pk, (public, _anonymous) in signed.items()},
        anonymous={pk: anonymous for pk, (_public, anonymous) in signed.items()},
    )


def build_group(letter: Letter, delivered: Letter, users: dict[str, User]) -> Group:
    """The organising group of both letters: Gus owns it, Grete organises
    and Gil views in it; Remy was an organiser of it until Gus removed him.
    (The letters' owner put them in the group: seeded here directly, as
    Olivia is no member.)"""
    for role, persona in GROUP_PERSONAS.items():
        users[role] = make_persona(persona)
    owner = users["group_owner"]
    group = services.group_create(by=owner, name="Warehouse Workers United", slug="wwu")
    for role in ("group_organiser", "group_viewer", "removed"):
        group_role = GROUP_ROLES.get(role, GroupRole.ORGANISER)
        GroupMember.objects.create(group=group, user=users[role], role=group_role)
    Letter.objects.filter(pk__in=[letter.pk, delivered.pk]).update(group=group)
    letter.group = delivered.group = group
    removed = GroupMember.objects.get(group=group, user=users["removed"])
    services.group_member_remove(group=group, by=owner, member_id=removed.pk)
    return group


def other_tokens(letter: Letter, by: User) -> dict[str, str]:
    """Live bearer tokens of another letter: a preview link and an
    invitation; and an invitation to another group."""
    preview = services.letter_preview_link_create(letter=letter)
    invitation = secrets.token_urlsafe(24)
    Invitation.objects.create(
        letter=letter,
        email="invitee@example.org",
        role=OrganiserRole.VIEWER,
        token_hash=hash_token(invitation),
        invited_by=by,
    )
    group = services.group_create(by=by, name="Another group")
    group_invitation = secrets.token_urlsafe(24)
    GroupInvitation.objects.create(
        group=group,
        email="invitee@example.org",
        role=GroupRole.VIEWER,
        token_hash=hash_token(group_invitation),
        invited_by=by,
    )
    return {"preview": preview, "invitation": invitation, "group_invitation": group_invitation}


# Everything a request could change about letters, signers and their links.
# (Audit entries are left out: reading an export writes one by design.)
STATE_MODELS = (
    models.Letter, models.LetterVersion, models.Demand, models.Addressee, models.Signature,
    models.CountDelta, models.LetterEvent, models.Organiser, models.Invitation,
    models.Delivery, models.LeadershipLink, models.Response,
    models.Group, models.GroupMember, models.GroupInvitation,
)  # fmt: skip


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row and field of STATE_MODELS."""
    models: tuple[Any, ...] = STATE_MODELS
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
