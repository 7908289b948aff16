"""Emails kept locally when DEBUG is on and no EMAIL_URL is set (development only)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class OutboxMessage(models.Model):
    from_email = models.CharField(max_length=254)
    to = models.TextField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject
