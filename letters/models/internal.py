"""Reading passes for internal letters (letters/services/internal.py).

A pass is a one-time link emailed to an address at one of an internal
letter's employers' domains: whoever opens it and presses its button may
read the letter in that browser for a while (`letters.reading`).  Nothing
about the address is kept: a pass holds its letter, the hash of its token
and its times."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from letters.models.letter import Letter


class ReadPass(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="read_passes")
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.letter_id} pass {self.pk}"
