"""Signatures and the counts folded from them."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from letters.models.held import HeldReason
from letters.models.languages import default_language
from letters.models.letter import Letter, LetterVersion


class SignatureStatus(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    INVALIDATED = "invalidated", _("Invalidated")


LIVE_STATUSES = (SignatureStatus.PENDING, SignatureStatus.CONFIRMED)

# What erasing a signer's identity sets (retention, an owner's emergency
# erasure).  The address's keyed hash stays, so an erased signer cannot
# sign and be counted again; withdrawal drops it too (`WITHDRAWN_FIELDS`).
ERASED_FIELDS = {
    "email_sealed": None,
    "personal_sealed": None,
    "personal_confirmed_at": None,
    "email_domains": "",
    "name": "",
    "job_title": "",
    "team": "",
    "location": "",
    "comment": "",
    "comment_hidden_reason": "",
    "secret": "",
    "wants_updates": False,
}
WITHDRAWN_FIELDS = {**ERASED_FIELDS, "email_hash": ""}
# An anonymous signature's name and details: not stored (SignerDetails.cleaned).
UNNAMED = {"name": "", "job_title": "", "team": "", "location": "", "comment": ""}


class Display(models.TextChoices):
    PUBLIC = "public", _("Show my name publicly")
    ANONYMOUS = "anonymous", _("Count me, but withhold my name")


class EmailKind(models.TextChoices):
    CONFIRM = "confirm", "Please confirm"
    CONFIRMED = "confirmed", "Signature confirmed"
    ALREADY = "already", "Already signed, with a fresh withdraw link"
    ALREADY_NO_LINK = "already_nl", "Already signed, pointing at the earlier withdraw link"
    # Signed again with a work address (`Signature.work_address`): what it
    # gets is the neutral confirmation request, whose link says "used".
    ALREADY_NEUTRAL = "already_nt", "Already signed, at a work address: the neutral request"
    PERSONAL_CONFIRM = "personal", "Please confirm the personal address (neutral)"


class Signature(models.Model):
    """One person's signature. Personal data is erased on withdrawal.

    No column holds the address in clear (`email_hash`, `email_sealed`,
    `email_domains`: letters/signer_address.py).  An anonymous signer's
    name and details are not stored at all (`SignerDetails.cleaned`).

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
    # Decided by the address's domain at signing (letters.employers); null:
    # the letter names no employer, or an other supporter.  No index: read
    # by letter (a recount groups by it), and every sign would update one.
    employer = models.ForeignKey(
        "Employer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The address, never in clear (letters/signer_address.py): its keyed
    # hash (deduplication; kept after erasure), sealed to the mail sender's
    # key (only email workers can open it) and keyed tags of its domains.
    email_hash = models.CharField(max_length=64, blank=True)
    email_sealed = models.BinaryField(null=True, blank=True, editable=False)
    email_domains = models.TextField(blank=True)
    name = models.CharField(max_length=120, blank=True)
    job_title = models.CharField(max_length=120, blank=True)
    team = models.CharField(max_length=120, blank=True)
    location = models.CharField(max_length=120, blank=True)
    comment = models.TextField(max_length=1000, blank=True)
    # An organiser hid the comment (services.comments): kept, shown nowhere;
    # the signature and its count are untouched.  `comment_hidden_told_at`:
    # when its signer was emailed about it (at most once).
    comment_hidden_at = models.DateTimeField(null=True, blank=True)
    comment_hidden_reason = models.CharField(max_length=300, blank=True)
    comment_hidden_told_at = models.DateTimeField(null=True, blank=True)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.PUBLIC)
    wants_updates = models.BooleanField(default=False)
    # A personal address a work-address signer gave on the confirm page, for
    # everything that names the letter: sealed like the first, never shown,
    # never used to count or deduplicate; used once its owner confirms it.
    personal_sealed = models.BinaryField(null=True, blank=True, editable=False)
    personal_confirmed_at = models.DateTimeField(null=True, blank=True)
    work_address = models.BooleanField(
        default=False,
        help_text="Signed with an address at a domain the letter requires (the employer "
        "reads that mailbox): it gets only neutral emails that name nothing.",
    )
    language = models.CharField(max_length=8, default=default_language)
    status = models.CharField(
        max_length=12, choices=SignatureStatus.choices, default=SignatureStatus.PENDING
    )
    flagged = models.BooleanField(
        default=False,
        help_text="Confirmed from a client over the confirmation rate limit: held, not counted.",
    )
    held_reason = models.CharField(
        max_length=10,
        choices=HeldReason.choices,
        blank=True,
        help_text="Why a flagged signature is held (which rate limit); empty when not held.",
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
                fields=["letter", "email_hash"],
                condition=Q(status__in=LIVE_STATUSES),
                name="signature_live_address_unique",
            ),
            models.CheckConstraint(
                condition=~Q(status=SignatureStatus.WITHDRAWN)
                | (
                    Q(email_hash="")
                    & Q(email_sealed__isnull=True)
                    & Q(personal_sealed__isnull=True)
                    & Q(email_domains="")
                    & Q(name="")
                    & Q(job_title="")
                    & Q(comment="")
                    & Q(team="")
                    & Q(location="")
                ),
                name="signature_withdrawn_erased",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=LIVE_STATUSES)
                | (
                    ~Q(email_hash="") & (Q(email_sealed__isnull=False) | Q(erased_at__isnull=False))
                ),
                name="signature_live_has_address",
            ),
            models.CheckConstraint(
                condition=~Q(display=Display.ANONYMOUS)
                | (Q(name="") & Q(job_title="") & Q(comment="") & Q(team="") & Q(location="")),
                name="signature_anonymous_unnamed",
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
    employer = models.ForeignKey(
        "Employer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
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
