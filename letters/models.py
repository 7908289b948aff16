"""The letters domain: letters, their immutable versions, signatures, counts.

Rules the database enforces (services turn IntegrityError into outcomes):
- one live (pending or confirmed) signature per letter and canonical email;
- a withdrawn signature holds no personal data;
- a version number is unique per letter.

Counts never live on the letter row: confirming or withdrawing a signature
inserts a CountDelta row; `counts_fold` folds deltas into LetterStats every
COUNT_INTERVAL seconds and `counts_recount` repairs drift.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class LetterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for signatures")
    CLOSED = "closed", _("Closed")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESPONDED = "responded", _("Responded")
    ARCHIVED = "archived", _("Archived")


PUBLIC_STATUSES = (
    LetterStatus.OPEN,
    LetterStatus.CLOSED,
    LetterStatus.DELIVERED,
    LetterStatus.ACKNOWLEDGED,
    LetterStatus.RESPONDED,
)


class Letter(models.Model):
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    status = models.CharField(
        max_length=16, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    allowed_domains = models.JSONField(
        _("allowed email domains"),
        default=list,
        blank=True,
        help_text=_("Signers must use an address at one of these domains. Empty: any address."),
    )
    goal = models.PositiveIntegerField(_("signature goal"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    list_public_signatories = models.BooleanField(_("list public signatories"), default=True)
    show_names_after = models.PositiveIntegerField(
        _("show names only once this many have signed"), null=True, blank=True
    )
    paper_count = models.PositiveIntegerField(_("signatures on paper"), default=0)
    preview_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    respond_by_noted = models.BooleanField(default=False, editable=False)
    duplicated_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_version = models.ForeignKey(
        "LetterVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Organiser", related_name="letters"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-published_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["status", "-published_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("letters:detail", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.status == LetterStatus.OPEN


class OrganiserRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    VIEWER = "viewer", _("Viewer")


class Organiser(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(
        max_length=8, choices=OrganiserRole.choices, default=OrganiserRole.OWNER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "user"], name="organiser_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.letter_id}"


class Invitation(models.Model):
    """An invitation to co-organise a letter; the token is emailed, stored hashed."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=OrganiserRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.role}) for {self.letter_id}"


class Addressee(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="addressees")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=200, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name


class LetterVersion(models.Model):
    """An immutable published text. Never updated after creation."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(editable=False)
    change_note = models.CharField(_("change note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["letter", "number"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} v{self.number}"

    def fingerprint(self, demands: list[str]) -> str:
        """SHA-256 over the text as published: body and ordered demands."""
        digest = hashlib.sha256(self.body.encode())
        for demand in demands:
            digest.update(b"\x00" + demand.encode())
        return digest.hexdigest()


class Demand(models.Model):
    version = models.ForeignKey(LetterVersion, on_delete=models.CASCADE, related_name="demands")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()

    class Meta:
        ordering: ClassVar[list[str]] = ["position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["version", "position"], name="demand_position_unique")
        ]

    def __str__(self) -> str:
        return self.text


class VersionTranslation(models.Model):
    """The same version's text in another language (one count covers all)."""

    version = models.ForeignKey(
        LetterVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField(editable=False)
    demands = models.JSONField(default=list)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["version", "language"], name="translation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version_id} ({self.language})"


class SignatureStatus(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    INVALIDATED = "invalidated", _("Invalidated")


LIVE_STATUSES = (SignatureStatus.PENDING, SignatureStatus.CONFIRMED)


class Display(models.TextChoices):
    PUBLIC = "public", _("Show my name publicly")
    ANONYMOUS = "anonymous", _("Count me, but withhold my name")


class EmailKind(models.TextChoices):
    CONFIRM = "confirm", "Please confirm"
    CONFIRMED = "confirmed", "Signature confirmed"
    ALREADY = "already", "Already signed, with a fresh withdraw link"
    ALREADY_NO_LINK = "already_nl", "Already signed, pointing at the earlier withdraw link"


class Signature(models.Model):
    """One person's signature. Personal data is erased on withdrawal.

    `secret` is part of every emailed token; clearing it revokes the links.
    `emails_requested`/`emails_sent` make the email task idempotent: the task
    for email n sends only while emails_sent < n and records the send with one
    conditional update.  `email_kind` says what the last requested email is.

    Anyone can type an address into the sign form, so the emails the form
    can trigger are capped per rolling window (`email_window_start`,
    `email_window_count`: see `services.signatures._request_email`); the
    "confirmed" email, which only the owner's own confirmation triggers, is
    not capped.  `withdraw_link_sent_at` is when a withdraw link was last
    emailed: the form mints a fresh one at most every
    SIGNATURE_WITHDRAW_LINK_INTERVAL seconds.
    """

    # No index of its own: signature_letter_status and the unique (letter,
    # email) both lead with it, and every sign would update a third index.
    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="signatures", db_index=False
    )
    version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="+")
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=120, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    team = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=120, blank=True)
    comment = models.TextField(max_length=1000, blank=True)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.PUBLIC)
    wants_updates = models.BooleanField(default=False)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(
        max_length=12, choices=SignatureStatus.choices, default=SignatureStatus.PENDING
    )
    flagged = models.BooleanField(
        default=False,
        help_text="Confirmed from a client over the confirmation rate limit: held, not counted.",
    )
    secret = models.CharField(max_length=32, blank=True)
    emails_requested = models.PositiveSmallIntegerField(default=1)
    email_kind = models.CharField(
        max_length=10, choices=EmailKind.choices, default=EmailKind.CONFIRM
    )
    emails_sent = models.PositiveSmallIntegerField(default=0)
    email_failed = models.BooleanField(default=False)
    # The email owed (emails_sent < emails_requested) is leased to one sender
    # until this time; a sender that dies leaves the lease to expire, and the
    # next sender takes the email over.  Transient failures push it forward.
    email_lease_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Transient send failures of the owed email."
    )
    email_window_start = models.DateTimeField(null=True, blank=True)
    email_window_count = models.PositiveSmallIntegerField(default=0)
    withdraw_link_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="Personal data erased (retention); still counted."
    )
    notified_version = models.PositiveIntegerField(
        default=0, help_text="The latest version number this signer was told about."
    )

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["letter", "email"],
                condition=Q(status__in=LIVE_STATUSES) & ~Q(email=""),
                name="signature_live_email_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status=SignatureStatus.WITHDRAWN)
                | (Q(email="") & Q(name="") & Q(comment="") & Q(team="") & Q(location="")),
                name="signature_withdrawn_erased",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=LIVE_STATUSES) | ~Q(email="") | Q(erased_at__isnull=False),
                name="signature_live_has_email",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["letter", "-confirmed_at", "-id"],
                condition=Q(
                    status=SignatureStatus.CONFIRMED, display=Display.PUBLIC, flagged=False
                ),
                name="signature_public_list",
            ),
            models.Index(fields=["letter", "status"], name="signature_letter_status"),
            models.Index(
                fields=["created_at"],
                condition=Q(status=SignatureStatus.PENDING),
                name="signature_pending_created",
            ),
            # The email outbox: the few rows that still owe an email, so that
            # senders find them without scanning a million signatures.
            models.Index(
                fields=["id"],
                condition=Q(status__in=LIVE_STATUSES, email_failed=False)
                & Q(emails_sent__lt=F("emails_requested")),
                name="signature_email_owed",
            ),
        ]

    def __str__(self) -> str:
        return f"signature {self.pk} ({self.status})"

    @property
    def counted(self) -> bool:
        return self.status == SignatureStatus.CONFIRMED and not self.flagged


class CountDelta(models.Model):
    """An append-only change to a letter's counts (no hot row on sign/confirm)."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(LetterVersion, on_delete=models.CASCADE, related_name="+")
    confirmed = models.SmallIntegerField()
    public = models.SmallIntegerField()

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.confirmed:+d}"


class LetterStats(models.Model):
    """Folded counts; written only by counts_fold / counts_recount."""

    letter = models.OneToOneField(
        Letter, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    confirmed = models.IntegerField(default=0)
    public = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.confirmed}"


class VersionStats(models.Model):
    """Folded confirmed counts per version (who signed which text).  Only
    `public` (named signers) is ever shown outside the admin: an anonymous
    signer's version is theirs to keep (DESIGN §2 rule 9)."""

    version = models.OneToOneField(
        LetterVersion, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+")
    confirmed = models.IntegerField(default=0)
    public = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"v{self.version_id}: {self.confirmed}"


class EventKind(models.TextChoices):
    PUBLISHED = "published", _("Published")
    NEW_VERSION = "new_version", _("New version")
    CLOSED = "closed", _("Closed")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESPONSE = "response", _("Response")
    UPDATE = "update", _("Organiser update")
    ARCHIVED = "archived", _("Archived")
    DEADLINE_PASSED = "deadline", _("Response deadline passed")


class LetterEvent(models.Model):
    """The public timeline of a letter."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.kind}"


class AuditLog(models.Model):
    """Who did what to whose data. Never holds the personal data itself."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=64)
    letter = models.ForeignKey(Letter, on_delete=models.SET_NULL, null=True, blank=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("By email")
    IN_PERSON = "in_person", _("In person")
    MEETING = "meeting", _("In a meeting")
    OTHER = "other", _("Other")


class Delivery(models.Model):
    """The letter handed to leadership: which version, how, when."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="deliveries")
    version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=DeliveryMethod.choices)
    delivered_at = models.DateTimeField()
    note = models.TextField(blank=True)
    confirmed_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-delivered_at", "-id"]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.letter_id}"


class LeadershipLink(models.Model):
    """A recipient's access link: random token shown once, stored hashed,
    revocable, optionally expiring."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="links")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=200, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link for {self.name}"


class Answer(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CONSIDERING = "considering", _("Under consideration")
    NO_ANSWER = "no_answer", _("No answer")


class Response(models.Model):
    """Leadership's answer: a statement and an answer per demand.  Written by
    leadership through its link, or recorded by organisers with its source."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="+")
    statement = models.TextField()
    source = models.CharField(max_length=300, blank=True)
    link = models.ForeignKey(LeadershipLink, on_delete=models.SET_NULL, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"response {self.pk} to {self.letter_id}"


class DemandAnswer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(max_length=12, choices=Answer.choices)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["response", "demand"], name="answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.demand_id}: {self.answer}"


class EventEmail(models.Model):
    """One signer was emailed about one event (at most once, by constraint)."""

    event = models.ForeignKey(LetterEvent, on_delete=models.CASCADE, related_name="+")
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["event", "signature"], name="event_email_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.signature_id}"


class Milestone(models.Model):
    """A count milestone reached (10, 100, the goal), noted once."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="+")
    threshold = models.PositiveIntegerField()
    reached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["letter", "threshold"], name="milestone_unique")
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} reached {self.threshold}"
