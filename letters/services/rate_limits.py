"""How many confirmations one client makes: the fixed windows that decide
whether a confirmed signature counts or is held (DESIGN §2 rule 7)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import time
from typing import Any

from django.conf import settings

from letters.models.held import HeldReason, OfficeRange
from speed.counters import count_in_windows

logger = logging.getLogger(__name__)


def _client_key(client_ip: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_ip}".encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=16)
def _parse_rate(rate: str) -> tuple[int, int]:
    count, _sep, seconds = rate.partition("/")
    return int(count), int(seconds)


@functools.lru_cache(maxsize=16)
def _networks(allowlist: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in allowlist)


def _in_networks(client_ip: str, networks: tuple[Any, ...]) -> bool:
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _ip_allowlisted(client_ip: str) -> bool:
    """On the operator's global list (SIGN_RATE_ALLOWLIST)."""
    return _in_networks(client_ip, _networks(tuple(settings.SIGN_RATE_ALLOWLIST)))


def _in_office_ranges(client_ip: str, letter_id: int) -> bool:
    """In one of the letter's office ranges (`OfficeRange`, its owners')."""
    ranges = OfficeRange.objects.filter(letter_id=letter_id).values_list("network", flat=True)
    return _in_networks(client_ip, _networks(tuple(ranges)))


def _rate_windows(letter_id: int, client_ip: str, prefix: str) -> list[tuple[str, int, int]]:
    """(key, ttl, limit) of the fixed windows this attempt counts against."""
    if not client_ip or _ip_allowlisted(client_ip):
        return []
    client = _client_key(client_ip)
    now = int(time.time())
    windows = []
    for name, rate in (("b", settings.SIGN_RATE_BURST), ("s", settings.SIGN_RATE_SUSTAINED)):
        limit, window = _parse_rate(rate)
        windows.append((f"{prefix}:{name}:{letter_id}:{client}:{now // window}", window + 5, limit))
    return windows


def confirm_rate_exceeded(*, letter_id: int, client_ip: str) -> bool:
    """Whether this confirmation is over a limit (`confirm_rate_hold`)."""
    return bool(confirm_rate_hold(letter_id=letter_id, client_ip=client_ip))


def confirm_rate_hold(*, letter_id: int, client_ip: str) -> str:
    """Count a confirmation against the burst and sustained limits
    (SIGN_RATE_BURST, SIGN_RATE_SUSTAINED: fixed windows in the cache, Redis
    in production) of the client that confirms.  Fails open if the cache is
    down: confirming keeps working, counted.

    The limit is applied to the confirming request, not to the sign form:
    anyone can submit the form for someone else's address, but only the
    mailbox's owner confirms, so what decides whether a confirmed signature
    counts is the owner's own act (DESIGN §2 rule 7).

    Returns why the signature is held (a `HeldReason`: the first limit
    exceeded), or "" when it counts.  Clients on the operator's global list
    or in the letter's office ranges are not limited."""
    windows = _rate_windows(letter_id, client_ip, "confirmrate")
    if not windows:
        return ""
    try:
        counts = count_in_windows([(key, ttl) for key, ttl, _limit in windows])
    except Exception:
        logger.warning("confirm rate limit: cache unavailable", exc_info=True)
        return ""
    reasons = (HeldReason.BURST, HeldReason.SUSTAINED)  # the order of `_rate_windows`
    for reason, n, (_key, _ttl, limit) in zip(reasons, counts, windows, strict=True):
        if n > limit:
            # Only now the letter's office ranges (one query, on the rare
            # confirmation over a limit, not on every one).
            return "" if _in_office_ranges(client_ip, letter_id) else str(reason)
    return ""
