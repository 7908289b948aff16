"""Views: thin; each authorises through one helper, validates a form, calls
one service, and redirects or renders."""

from __future__ import annotations
