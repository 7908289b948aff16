"""Fault tests: the whole stack on private servers, with parts of it broken on purpose."""

from __future__ import annotations
