"""An email backend that stores messages for the /outbox/ page."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from outbox.models import OutboxMessage

        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                for alternative in message.alternatives:
                    if alternative[1] == "text/html":
                        html = str(alternative[0])
            OutboxMessage.objects.create(
                from_email=str(message.from_email),
                to=", ".join(message.recipients()),
                subject=str(message.subject),
                body=str(message.body),
                html=html,
            )
        return len(email_messages)
