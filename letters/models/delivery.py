"""What happens to a letter after publication: its public timeline, the
delivery to leadership, leadership's response, and the emails and
milestones noted along the way."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from letters.models.letter import Demand, Letter, LetterVersion
from letters.models.signature import Signature


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
    PAPER = "paper", _("Paper signatures recorded")
    PAPER_CORRECTED = "paper_corrected", _("Paper signatures corrected")
    TAKEN_DOWN = "taken_down", _("Taken down by the moderators")
    REINSTATED = "reinstated", _("Reinstated by the moderators")
    WENT_PUBLIC = "went_public", _("Made public")  # an internal letter (services.internal)
    # Moderation steps seen only by the organisers and admins (PRIVATE_KINDS).
    CHANGE_REQUESTED = "change_request", _("Change requested by the moderators")
    APPEALED = "appealed", _("Takedown appealed")
    APPEAL_REJECTED = "appeal_rejected", _("Appeal rejected")
    REPORTS_DISMISSED = "dismissed", _("Reports dismissed")


# Kinds that are no part of the public timeline (page, API, feed, emails to
# signers): moderation between the site's admins and the organisers.
PRIVATE_KINDS = frozenset(
    {
        EventKind.CHANGE_REQUESTED,
        EventKind.APPEALED,
        EventKind.APPEAL_REJECTED,
        EventKind.REPORTS_DISMISSED,
    }
)


class LetterEvent(models.Model):
    """The public timeline of a letter.

    `news_claim`: which fan-out took this event's emails (a task id; blank:
    not yet).  Events of a letter close together go out as one email per
    recipient: the fan-out claims every unclaimed one (services.events)."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    response = models.ForeignKey(
        "Response", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    news_claim = models.CharField(max_length=64, blank=True, default="")
    # Whose leadership an event is about on a coalition letter (delivered,
    # acknowledged, response); null: the whole letter.
    employer = models.ForeignKey(
        "Employer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.kind}"


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("By email")
    IN_PERSON = "in_person", _("In person")
    MEETING = "meeting", _("In a meeting")
    OTHER = "other", _("Other")


class Delivery(models.Model):
    """The letter handed to leadership: which version, how, when."""

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="deliveries")
    version = models.ForeignKey(LetterVersion, on_delete=models.PROTECT, related_name="+")
    # Delivered to one employer's leadership (a coalition letter delivers to
    # each); null: the letter names no employer.
    employer = models.ForeignKey(
        "Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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
        verbose_name_plural = "deliveries"

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
    # The employer whose leadership answered (its delivery's); null: the
    # letter names no employer.
    employer = models.ForeignKey(
        "Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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
