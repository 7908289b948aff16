"""Reports and takedown: visitors report a letter; the site's admins
dismiss the reports, ask the organisers to change something, or take the
letter down with a public reason; the organisers may appeal once; an admin
reinstates the letter or rejects the appeal.

Every step is a LetterEvent on the letter (taken down and reinstated are
public, the rest `PRIVATE_KINDS`: for the organisers and admins) and an
audit-log entry.  Nothing here reads or counts signatures: a report is
about a letter, and what the queue shows is the reports and the letter.

Locking: the letter's status changes are conditional updates from the
states that allow them; a takedown's appeal and decision are conditional
updates of the takedown row (a second click, or two admins at once,
change nothing and get a ServiceError).  At most one takedown of a letter
stands at a time (`one_standing_takedown`).

A taken-down letter is treated like a closed one: it takes no signatures
(signing needs `open`), its public page shows the notice instead of the
text, the API, widget, feed and signatories answer like for an unknown
letter, and its signers' data is erased RETENTION_DAYS after the takedown
(`signatures_erase_retained`).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from accounts.models import User
from letters import notifications, selectors
from letters.models import (
    PUBLIC_STATUSES,
    REPORT_TEXT_MAX,
    AppealDecision,
    EventKind,
    Letter,
    LetterEvent,
    LetterStatus,
    Report,
    ReportOutcome,
    ReportReason,
    Takedown,
)
from letters.queue import enqueue
from letters.selectors.reports import letter_takedown
from letters.services.audit import audit
from letters.services.emailing import deliver
from letters.services.errors import ServiceError
from letters.services.events import event_record
from letters.services.rate_limits import _client_key, _ip_allowlisted, _parse_rate
from speed.counters import count_in_windows

logger = logging.getLogger(__name__)

# Reports one client may file (every letter together), as "count/seconds"
# fixed windows; settings may override (config/settings.py is full).
REPORT_RATE_BURST = "3/60"
REPORT_RATE_SUSTAINED = "10/86400"
APPEAL_TEXT_MAX = 2000


def report_rate_exceeded(*, client_ip: str) -> bool:
    """Count a report against the client's windows (REPORT_RATE_BURST,
    REPORT_RATE_SUSTAINED; the sign limits' allowlist applies).  Fails
    open: with the cache down, reports are taken."""
    if not client_ip or _ip_allowlisted(client_ip):
        return False
    client = _client_key(client_ip)
    now = int(time.time())
    windows = []
    for name, default in (("b", REPORT_RATE_BURST), ("s", REPORT_RATE_SUSTAINED)):
        limit, window = _parse_rate(getattr(settings, f"REPORT_RATE_{name.upper()}", default))
        windows.append((f"reportrate:{name}:{client}:{now // window}", window + 5, limit))
    try:
        counts = count_in_windows([(key, ttl) for key, ttl, _limit in windows])
    except Exception:
        logger.warning("report rate limit: cache unavailable", exc_info=True)
        return False
    return any(n > limit for n, (_key, _ttl, limit) in zip(counts, windows, strict=True))


def report_create(*, letter: Letter, reason: str, text: str, client_ip: str) -> Report | None:
    """A visitor's report of a public letter; None when the client is over
    its rate limit (nothing is kept, and the visitor is told the same).
    The report keeps no trace of who filed it (no address, no account)."""
    if letter.status not in PUBLIC_STATUSES:
        raise ServiceError(_("This letter cannot be reported."))
    if reason not in ReportReason.values:
        raise ServiceError(_("Choose a reason."), field="reason")
    text = text.strip()[:REPORT_TEXT_MAX]
    if report_rate_exceeded(client_ip=client_ip):
        audit(actor=None, action="report.rate_limited", letter=letter)
        return None
    with transaction.atomic():
        report = Report.objects.create(letter=letter, reason=reason, text=text)
        audit(actor=None, action="report.create", letter=letter, target=f"report:{report.pk}")
    return report


def _resolve_open(letter: Letter, outcome: ReportOutcome, by: User) -> int:
    return Report.objects.filter(letter=letter, outcome=ReportOutcome.OPEN).update(
        outcome=outcome, resolved_at=timezone.now(), resolved_by=by
    )


def _tell_organisers(event: LetterEvent) -> None:
    enqueue("notify_moderation", event.pk)


@transaction.atomic
def reports_dismiss(*, letter: Letter, by: User) -> int:
    """Close the letter's open reports with no action; the number closed."""
    dismissed = _resolve_open(letter, ReportOutcome.DISMISSED, by)
    if not dismissed:
        raise ServiceError(_("This letter has no open reports."))
    event_record(letter=letter, kind=EventKind.REPORTS_DISMISSED, by=by)
    audit(actor=by, action="report.dismiss", letter=letter, count=dismissed)
    return dismissed


@transaction.atomic
def letter_request_change(*, letter: Letter, by: User, message: str) -> LetterEvent:
    """Ask the organisers to change something: they are emailed and see
    the message on their letter's page.  Closes the open reports."""
    message = message.strip()
    if not message:
        raise ServiceError(_("Say what the organisers should change."), field="message")
    if letter.status == LetterStatus.TAKEN_DOWN:
        raise ServiceError(_("This letter is taken down."))
    resolved = _resolve_open(letter, ReportOutcome.CHANGE_REQUESTED, by)
    event = event_record(letter=letter, kind=EventKind.CHANGE_REQUESTED, text=message, by=by)
    audit(actor=by, action="report.request_change", letter=letter, reports=resolved)
    _tell_organisers(event)
    return event


@transaction.atomic
def letter_take_down(*, letter: Letter, by: User, reason: str) -> Takedown:
    """A public letter → taken down, with a public reason (a conditional
    update from the public states; the status it had is kept to reinstate).
    Closes the open reports; the organisers are emailed."""
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give the public reason."), field="reason")
    locked = Letter.objects.select_for_update().filter(pk=letter.pk).first()
    if locked is None or locked.status not in PUBLIC_STATUSES:
        raise ServiceError(_("Only a public letter can be taken down."))
    previous = locked.status
    Letter.objects.filter(pk=letter.pk, status=previous).update(status=LetterStatus.TAKEN_DOWN)
    try:
        with transaction.atomic():
            takedown = Takedown.objects.create(
                letter=locked, reason=reason, previous_status=previous, created_by=by
            )
    except IntegrityError:
        raise ServiceError(_("This letter is already taken down.")) from None
    resolved = _resolve_open(locked, ReportOutcome.TAKEN_DOWN, by)
    event = event_record(letter=locked, kind=EventKind.TAKEN_DOWN, text=reason, by=by)
    audit(
        actor=by,
        action="letter.take_down",
        letter=locked,
        target=f"takedown:{takedown.pk}",
        previous=previous,
        reports=resolved,
    )
    _tell_organisers(event)
    letter.refresh_from_db()
    return takedown


def _standing(letter: Letter) -> Takedown:
    takedown = letter_takedown(letter=letter)
    if takedown is None:
        raise ServiceError(_("This letter is not taken down."))
    return takedown


@transaction.atomic
def takedown_appeal(*, letter: Letter, by: User, message: str) -> Takedown:
    """The organisers' one appeal against the standing takedown (a
    conditional update: a second appeal changes nothing and is refused)."""
    message = message.strip()[:APPEAL_TEXT_MAX]
    if not message:
        raise ServiceError(_("Say why the letter should be reinstated."), field="message")
    takedown = _standing(letter)
    updated = Takedown.objects.filter(pk=takedown.pk, appealed_at__isnull=True).update(
        appeal=message, appealed_at=timezone.now(), appealed_by=by
    )
    if not updated:
        raise ServiceError(_("This takedown was already appealed."))
    event_record(letter=letter, kind=EventKind.APPEALED, text=message, by=by)
    audit(actor=by, action="letter.appeal", letter=letter, target=f"takedown:{takedown.pk}")
    takedown.refresh_from_db()
    return takedown


@transaction.atomic
def takedown_reinstate(*, letter: Letter, by: User, note: str = "") -> Letter:
    """Lift the standing takedown (on appeal or not): the letter gets back
    the status it had, and the public page its text."""
    takedown = _standing(letter)
    now = timezone.now()
    changes: dict[str, object] = {"reinstated_at": now, "decision_note": note.strip()}
    if takedown.appealed_at is not None:
        changes |= {"decision": AppealDecision.REINSTATED, "decided_at": now, "decided_by": by}
    updated = Takedown.objects.filter(pk=takedown.pk, reinstated_at__isnull=True).update(**changes)
    if not updated:
        raise ServiceError(_("This letter was already reinstated."))
    # Archived by its owners meanwhile: it stays archived.
    Letter.objects.filter(pk=letter.pk, status=LetterStatus.TAKEN_DOWN).update(
        status=takedown.previous_status
    )
    event = event_record(letter=letter, kind=EventKind.REINSTATED, by=by)
    audit(actor=by, action="letter.reinstate", letter=letter, target=f"takedown:{takedown.pk}")
    _tell_organisers(event)
    letter.refresh_from_db()
    return letter


@transaction.atomic
def takedown_reject_appeal(*, letter: Letter, by: User, note: str = "") -> Takedown:
    """Refuse the organisers' appeal: the letter stays taken down, and
    there is no second appeal."""
    takedown = _standing(letter)
    updated = Takedown.objects.filter(
        pk=takedown.pk, appealed_at__isnull=False, decision=AppealDecision.NONE
    ).update(
        decision=AppealDecision.REJECTED,
        decision_note=note.strip(),
        decided_at=timezone.now(),
        decided_by=by,
    )
    if not updated:
        raise ServiceError(_("There is no appeal waiting for a decision."))
    event = event_record(letter=letter, kind=EventKind.APPEAL_REJECTED, text=note.strip(), by=by)
    audit(actor=by, action="letter.appeal_reject", letter=letter, target=f"takedown:{takedown.pk}")
    _tell_organisers(event)
    takedown.refresh_from_db()
    return takedown


# What the organisers' email says, by kind.
_NEWS = {
    EventKind.CHANGE_REQUESTED: gettext_noop("The site's moderators ask you to change your letter"),
    EventKind.TAKEN_DOWN: gettext_noop("The site's moderators took your letter down"),
    EventKind.REINSTATED: gettext_noop("The site's moderators reinstated your letter"),
    EventKind.APPEAL_REJECTED: gettext_noop("The site's moderators rejected your appeal"),
}


def organisers_tell_moderation(*, event_id: int) -> int:
    """Email the letter's organisers about a moderation step (a task, on
    commit); the text is the moderators' message or public reason."""
    event = LetterEvent.objects.select_related("letter").filter(pk=event_id).first()
    if event is None or event.kind not in _NEWS:
        return 0
    recipients = selectors.organisers_to_tell(letter_id=event.letter_id)
    for email, language in recipients:
        with translation.override(language):
            news = gettext(_NEWS[EventKind(event.kind)])
        deliver(
            notifications.organiser_news_email(
                event.letter, email, language, news=news, text=event.text
            )
        )
    return len(recipients)
