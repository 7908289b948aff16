"""`{% second_factor_missing user as missing %}`: whether the signed-in
account has no second factor (accounts/second_factor.py), for the notice on
the organiser dashboard."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.second_factor import has_second_factor

register = template.Library()


@register.simple_tag
def second_factor_missing(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not has_second_factor(user)
