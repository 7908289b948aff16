"""The sign measurement: sign POSTs with unique emails (wrk and
bench/lua/sign.lua), the rows stored against the answers, where the CPU
went, and the drain of the confirmation emails they made owed.  Its rows
are the signatures made after it started (the database holds no address in
clear to find them by); its emails, those the sink got for its addresses."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.procfs import cpu_seconds
from bench.report import log
from bench.stack import Stack
from bench.wrk import Wrk


def measure_sign(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, slug: str, run_id: str
) -> dict[str, Any]:
    """The sign POSTs, then waiting for the confirmation emails they made owed
    (given up after `drain_timeout`, so that the pipeline starts empty)."""
    prefix = f"s{run_id}"
    before = stack.last_signature_id()
    groups = stack.process_groups()
    cpu_before = cpu_seconds(groups)
    result = wrk.run(
        f"{stack.base_url}/letters/{slug}/sign/",
        script="sign",
        seconds=args.duration,
        args=(prefix, stack.base_url),
        label="sign",
    )
    cpu_after = cpu_seconds(groups)
    ended = time.monotonic()
    backlog = stack.owed_emails(before)
    accepted = result.statuses.get(302, 0)
    answered = sum(result.statuses.values())
    unanswered = max(0, result.sent - answered)
    # The requests in flight when wrk stopped are still served: count the
    # rows once they have landed, so that every row's email is waited for.
    time.sleep(1)
    rows = stack.signatures_after(before)
    log(f"sign: {result.rps:.0f}/s, {rows} rows; {backlog} emails still owed")
    emails = drain_emails(stack, f"{prefix}-", before, rows, backlog, ended, args.drain_timeout)
    return result.as_dict() | {
        "accepted": accepted,
        "rows_stored": rows,
        "unanswered_at_stop": unanswered,
        # wrk stops with requests in flight: the server may still store those.
        "rows_match_accepted": accepted <= rows <= accepted + unanswered,
        "other_statuses": {str(k): v for k, v in sorted(result.statuses.items()) if k != 302},
        # Where the CPU went while signing, in ms per sign answered: the
        # email worker sends the confirmations of the signs being measured.
        "cpu_ms_per_sign": {
            key: round((cpu_after[key] - cpu_before[key]) * 1000 / max(1, answered), 3)
            for key in cpu_after
        },
        "emails": emails,
    }


def drain_emails(
    stack: Stack,
    prefix: str,
    after_id: int,
    rows: int,
    backlog: int,
    ended: float,
    timeout: float,
) -> dict[str, Any]:
    """Wait for the emails of `rows` signatures (those after `after_id`) to
    `prefix` addresses (`backlog` of them still owed when signing `ended`);
    those not in after `timeout` s are given up (purged)."""
    found = stack.wait_for_emails(prefix, rows, timeout)
    delivered = len({a for _t, a in found})
    last = max((t for t, _a in found), default=ended)
    emails: dict[str, Any] = {
        "expected": rows,
        "delivered": delivered,
        "queued_at_stop": backlog,
        "last_after_stop_s": round(max(0.0, last - ended), 2),
    }
    if delivered < rows:
        emails["purged"] = stack.drop_owed_emails(after_id)
        time.sleep(1)
    return emails
