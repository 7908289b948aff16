"""What every email says, one function per email, and the SMTP connection
that sends them.

Each email is rendered from templates/emails/<name>-{subject,body}.txt and
-body.html in the recipient's language, by `build_email`.  No tracking
pixels, no remote images.  Links are made by `letters.links` (never by
hand).  Nothing here writes to the database: the tasks record what was sent
(`letters.signature_outbox`).
"""

from __future__ import annotations

import contextlib
import functools
import smtplib
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import mailers
from django.db import Error as DatabaseError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from letters.links import absolute_url, letter_url, organiser_url, signer_url
from letters.models import (
    Demand,
    EmailKind,
    EventKind,
    GroupInvitation,
    Invitation,
    LeadershipLink,
    Letter,
    LetterEvent,
    LetterVersion,
    Signature,
    SignatureStatus,
)
from letters.selectors import letter_text
from letters.signer_address import open_address, open_personal
from letters.tokens import Purpose
from speed.email_headers import Email


@functools.lru_cache(maxsize=4)
def _sender_domain(sender: str) -> str:
    """The domain of the sender address: Message-IDs name it, not the
    machine's host name (Django's default) nor anything about a letter."""
    return parseaddr(sender)[1].rpartition("@")[2] or "undersigned.invalid"


def build_email(*, name: str, to: str, context: dict[str, Any], language: str) -> Email:
    context = {"SITE_URL": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{name}-subject.txt", context)
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    message = Email(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
            "Message-ID": make_msgid(domain=_sender_domain(settings.DEFAULT_FROM_EMAIL)),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# --- To signers -------------------------------------------------------------

# The state a signature must still be in for an owed email of each kind to
# be worth sending, and the template it is written with.
_STATE_FOR_KIND = {
    EmailKind.CONFIRM: SignatureStatus.PENDING,
    EmailKind.CONFIRMED: SignatureStatus.CONFIRMED,
    EmailKind.ALREADY: SignatureStatus.CONFIRMED,
    EmailKind.ALREADY_NO_LINK: SignatureStatus.CONFIRMED,
    EmailKind.ALREADY_NEUTRAL: SignatureStatus.CONFIRMED,
    EmailKind.PERSONAL_CONFIRM: SignatureStatus.CONFIRMED,
}
_TEMPLATE_FOR_KIND = {
    EmailKind.CONFIRM: "signature-confirm",
    EmailKind.CONFIRMED: "signature-confirmed",
    EmailKind.ALREADY: "signature-already",
    EmailKind.ALREADY_NO_LINK: "signature-already",
    # Word for word the confirmation request: a work mailbox's reader cannot
    # tell a second signing from a first by the email.
    EmailKind.ALREADY_NEUTRAL: "signature-confirm",
    EmailKind.PERSONAL_CONFIRM: "personal-confirm",
}
# Emails that name the letter: to a work address, never (`named_recipient`).
_NAMING_KINDS = frozenset({EmailKind.CONFIRMED, EmailKind.ALREADY, EmailKind.ALREADY_NO_LINK})


def named_recipient(signature: Signature) -> str | None:
    """Where an email that names the letter may go: the signer's address;
    for a work address (the employer reads it), the personal address once
    its owner confirmed it, else nowhere (None)."""
    if not signature.work_address:
        return open_address(signature)
    if signature.personal_confirmed_at is not None:
        return open_personal(signature)
    return None


def signature_email(signature: Signature, number: int) -> Email | None:
    """The email `number` a signature owes (confirm, confirmed, already
    signed), or None if it is moot: a later email was asked for, or the
    state moved on.  May raise for one bad row (an unknown kind, a template
    error): the sender fails that email alone."""
    kind = EmailKind(signature.email_kind)
    if number < signature.emails_requested or _STATE_FOR_KIND[kind] != signature.status:
        return None
    if kind == EmailKind.PERSONAL_CONFIRM:
        to: str | None = open_personal(signature)
    elif kind in _NAMING_KINDS:
        to = named_recipient(signature)
    else:
        to = open_address(signature)
    if to is None:
        return None  # nowhere it may go: moot
    return build_email(
        name=_TEMPLATE_FOR_KIND[kind],
        to=to,
        context=_signature_context(signature, kind),
        language=signature.language,
    )


def _signature_context(signature: Signature, kind: EmailKind) -> dict[str, object]:
    if kind == EmailKind.PERSONAL_CONFIRM:
        return {
            "confirm_url": signer_url(signature, Purpose.PERSONAL),
            "max_age_days": settings.SIGNATURE_CONFIRM_MAX_AGE // 86400,
        }
    if kind in (EmailKind.CONFIRM, EmailKind.ALREADY_NEUTRAL):
        return {
            "confirm_url": signer_url(signature, Purpose.CONFIRM),
            "max_age_days": settings.SIGNATURE_CONFIRM_MAX_AGE // 86400,
            "pending_days": settings.SIGNATURE_PENDING_MAX_AGE // 86400,
        }
    # "Already signed" mints a withdraw link only when none was emailed
    # lately (services.signing._withdraw_link_due); otherwise it points at
    # the earlier email.
    letter = signature.letter
    with_link = kind != EmailKind.ALREADY_NO_LINK
    return {
        "letter_title": letter_text(letter, signature.language).title,
        "letter_url": letter_url(letter),
        "withdraw_url": signer_url(signature, Purpose.WITHDRAW) if with_link else "",
        "withdraw_link_days": max(1, settings.SIGNATURE_WITHDRAW_LINK_INTERVAL // 86400),
    }


def neutral_news_email(signature: Signature) -> Email:
    """News for a signer whose address is a work address (the employer may
    read it): no letter, no organiser, no count, and no link that can act
    on the signature or show the letter; only one to stop these notices,
    whose page names nothing either."""
    unsubscribe_url = signer_url(signature, Purpose.UNSUBSCRIBE)
    message = build_email(
        name="neutral-news",
        to=open_address(signature),
        context={"unsubscribe_url": unsubscribe_url, "letters_url": absolute_url("letters:index")},
        language=signature.language,
    )
    message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def version_changed_email(signature: Signature, version: LetterVersion) -> Email:
    """ "The text changed": two links, support the new text or withdraw (a
    work address without a confirmed personal one gets the neutral notice)."""
    to = named_recipient(signature)
    if to is None:
        return neutral_news_email(signature)
    letter = signature.letter
    context = {
        "letter_title": letter_text(letter, signature.language).title,
        "change_note": version.change_note,
        "review_url": signer_url(signature, Purpose.NEW_VERSION),
        "withdraw_url": signer_url(signature, Purpose.WITHDRAW),
    }
    return build_email(
        name="version-changed",
        to=to,
        context=context,
        language=signature.language,
    )


def comment_hidden_email(signature: Signature) -> Email:
    """ "An organiser hid your comment": the reason, and that the signature
    still counts (a work address without a confirmed personal one gets the
    neutral notice)."""
    to = named_recipient(signature)
    if to is None:
        return neutral_news_email(signature)
    letter = signature.letter
    context = {
        "letter_title": letter_text(letter, signature.language).title,
        "letter_url": letter_url(letter),
        "comment": signature.comment,
        "reason": signature.comment_hidden_reason,
    }
    return build_email(name="comment-hidden", to=to, context=context, language=signature.language)


@dataclass(frozen=True)
class AnswerLine:
    """One demand and leadership's answer to it, in the reader's language."""

    demand: str
    answer: str  # an Answer value: letters/_answer_mark.html marks each its own way
    label: str


@dataclass(frozen=True)
class NewsItem:
    """One timeline event as an email tells it: what happened and who (or
    the organisers' words); a response with its statement and each demand's
    answer."""

    kind: str
    text: str
    statement: str = ""
    answers: tuple[AnswerLine, ...] = ()
    employer: str = ""  # whose leadership, on a coalition letter


def _demand_texts(version: LetterVersion, demands: list[Demand], language: str) -> list[str]:
    """The demands in `language` where their version was translated into it
    (a translation has the version's demands, in order), else as written."""
    for translated in version.translations.all():
        if translated.language == language and len(translated.demands) == len(demands):
            return [str(text) for text in translated.demands]
    return [d.text for d in demands]


def news_items(events: list[LetterEvent], language: str) -> list[NewsItem]:
    """What the events say, in order, in `language`."""
    items = []
    with translation.override(language):
        for event in events:
            kind = str(event.get_kind_display())
            employer = event.employer.name if event.employer_id and event.employer else ""
            response = event.response if event.kind == EventKind.RESPONSE else None
            if response is None:
                items.append(NewsItem(kind, event.text, employer=employer))
                continue
            answers = sorted(response.answers.all(), key=lambda a: a.demand.position)
            texts = _demand_texts(response.version, [a.demand for a in answers], language)
            lines = tuple(
                AnswerLine(text, a.answer, str(a.get_answer_display()))
                for text, a in zip(texts, answers, strict=True)
            )
            items.append(NewsItem(kind, event.text, response.statement, lines, employer))
    return items


def letter_event_email(events: list[LetterEvent], signature: Signature) -> Email:
    """News on the timeline (delivered, acknowledged, a response, an update),
    one email for events that came close together, oldest first, with a
    one-click unsubscribe (RFC 8058); a work address without a confirmed
    personal one gets the neutral notice (one, for all of them)."""
    to = named_recipient(signature)
    if to is None:
        return neutral_news_email(signature)
    letter = events[0].letter
    unsubscribe_url = signer_url(signature, Purpose.UNSUBSCRIBE)
    message = build_email(
        name="letter-event",
        to=to,
        context={
            "letter_title": letter_text(letter, signature.language).title,
            "letter_url": letter_url(letter),
            "items": news_items(events, signature.language),
            "unsubscribe_url": unsubscribe_url,
        },
        language=signature.language,
    )
    message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


# --- To organisers and leadership -------------------------------------------


def organiser_news_email(
    letter: Letter, to: str, language: str, *, news: str, text: str = ""
) -> Email:
    return build_email(
        name="organiser-news",
        to=to,
        context={
            "letter_title": letter.title,
            "news": news,
            "text": text,
            "url": organiser_url(letter),
        },
        language=language,
    )


def event_news_email(events: list[LetterEvent], to: str, language: str) -> Email:
    """Leadership acknowledged or responded (one email for events that came
    close together, oldest first, a response with its statement and each
    demand's answer)."""
    letter = events[0].letter
    return build_email(
        name="organiser-events",
        to=to,
        context={
            "letter_title": letter.title,
            "items": news_items(events, language),
            "url": organiser_url(letter),
        },
        language=language,
    )


def milestone_email(letter: Letter, threshold: int, to: str, language: str) -> Email:
    with translation.override(language):
        news = gettext("%(n)s people have signed") % {"n": threshold}
    return organiser_news_email(letter, to, language, news=news)


def invitation_email(invitation: Invitation, token: str) -> Email:
    context = {
        "letter_title": invitation.letter.title,
        "role": invitation.get_role_display(),
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "",
        "accept_url": absolute_url("organise:invitation", token=token),
    }
    return build_email(
        name="organiser-invitation",
        to=invitation.email,
        context=context,
        language=invitation.letter.language,
    )


def group_invitation_email(invitation: GroupInvitation, token: str) -> Email:
    """An invitation to join an organising group, in the inviter's language."""
    context = {
        "group_name": invitation.group.name,
        "role": invitation.get_role_display(),
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "",
        "accept_url": absolute_url("organise:group_invitation", token=token),
    }
    return build_email(
        name="group-invitation",
        to=invitation.email,
        context=context,
        language=invitation.language,
    )


def leadership_link_email(link: LeadershipLink, to: str, token: str) -> Email:
    letter = link.delivery.letter
    return build_email(
        name="leadership-link",
        to=to,
        context={
            "name": link.name,
            "letter_title": letter.title,
            "url": absolute_url("leadership", token=token),
            "expires_at": link.expires_at,
        },
        language=letter.language,
    )


def read_pass_email(*, to: str, token: str, language: str, seconds: int) -> Email:
    """A reading link for an internal letter (working `seconds`), to a work
    address (the employer reads it): like the neutral confirmation
    request, it names no letter, employer or organiser
    (letters/services/internal.py)."""
    return build_email(
        name="read-link",
        to=to,
        context={"url": absolute_url("read_pass", token=token), "hours": max(1, seconds // 3600)},
        language=language,
    )


# --- Sending ----------------------------------------------------------------

# Exceptions that say nothing about one email (the database, the worker's
# time limit, memory): they stop the batch, and mark no email failed.
# Connection trouble (OSError, SMTPException) is handled apart.
NOT_THE_EMAIL: tuple[type[BaseException], ...] = (
    DatabaseError,
    SoftTimeLimitExceeded,
    MemoryError,
)


class SmtpTrouble(Exception):
    """An SMTP error described without the addresses it may carry."""


class Unsendable(Exception):
    """This one email cannot be made or sent, and the connection is not to
    blame (an address the backend cannot encode without SMTPUTF8, say).
    Carries only the original exception's type: its message may hold the
    address."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.kind = type(cause).__name__


def error_kind(exc: BaseException) -> str:
    """What to log about an exception: its type, never its text."""
    return exc.kind if isinstance(exc, Unsendable) else type(exc).__name__


def smtp_error_is_permanent(exc: Exception) -> bool:
    """5xx answers about the message or recipient are permanent; the rest
    (connection refused, timeouts, 4xx) are worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def smtp_error_summary(exc: Exception) -> str:
    """Describe an SMTP error for logs: its type and code, never the
    recipient (SMTPRecipientsRefused carries the address; logs must not)."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(str(c) for c, _msg in exc.recipients.values())
    return f"{type(exc).__name__}" + (f" {code}" if code else "")


class Mailer:
    """One SMTP connection for a batch of emails, reopened after a failure.

    `send` raises the connection's errors as they are (OSError and
    SMTPException: the caller postpones, or fails one email on a 5xx) and
    anything else about the message as `Unsendable` (the caller fails that
    email alone).  Opening the connection is not the message's fault: its
    errors are raised as they are."""

    def __init__(self) -> None:
        self._connection: Any = None

    def _open(self) -> None:
        connection = mailers.default
        self._connection = connection
        connection.open()
        # A sender address the backend refuses would make every email
        # "unsendable": stop here instead (the task fails, the leases expire).
        prep_address = getattr(connection, "prep_address", None)
        if prep_address is not None:
            prep_address(settings.DEFAULT_FROM_EMAIL)

    def send(self, message: Email) -> None:
        if self._connection is None:
            self._open()
        try:
            self._connection.send_messages([message])
        except smtplib.SMTPResponseException:
            raise  # the server answered: the connection is still usable
        except OSError:  # SMTPException too: the caller decides
            self.close()
            raise
        except NOT_THE_EMAIL:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 -- the message's fault, re-raised as such
            # Making the MIME message or encoding the envelope failed: this
            # message's fault.  An SMTP transaction may be half open (MAIL
            # FROM sent, RCPT failed to encode): start afresh for the next.
            self.close()
            raise Unsendable(exc) from None

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
