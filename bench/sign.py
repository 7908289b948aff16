"""The sign measurement: sign POSTs with unique emails (wrk and
bench/lua/sign.lua), the rows stored against the answers, where the CPU
went, and the drain of the confirmation emails they made owed.  Its rows
are the signatures made after it started (the database holds no address in
clear to find them by); its emails, those the sink got for its addresses.

On a coalition letter the addresses are at its employers' domains, their
subdomains and other supporters' domains in turn (`sign_domains`, from the
seeding), so the employer decided in the sign path is measured too; the rows
are then checked to be counted under the employer their domain makes theirs
(found by the keyed tag of the domain every row keeps, `employer_decisions`)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from bench.procfs import cpu_seconds
from bench.report import log
from bench.stack import Stack
from bench.wrk import Wrk


def measure_sign(
    stack: Stack,
    wrk: Wrk,
    args: argparse.Namespace,
    slug: str,
    run_id: str,
    *,
    sign_domains: Sequence[dict[str, Any]] = (),
    label: str = "sign",
) -> dict[str, Any]:
    """The sign POSTs, then waiting for the confirmation emails they made owed
    (given up after `drain_timeout`, so that the pipeline starts empty).
    With `sign_domains` (a coalition letter's), the addresses are at those
    domains in turn, and the rows' employers are checked."""
    prefix = f"{label[0]}{run_id}"
    domains = ",".join(d["domain"] for d in sign_domains)
    before = stack.last_signature_id()
    groups = stack.process_groups()
    cpu_before = cpu_seconds(groups, database=stack.database.name)
    result = wrk.run(
        f"{stack.base_url}/letters/{slug}/sign/",
        script="sign",
        seconds=args.duration,
        args=(prefix, stack.base_url, domains),
        label=label,
    )
    cpu_after = cpu_seconds(groups, database=stack.database.name)
    ended = time.monotonic()
    backlog = stack.owed_emails(before)
    accepted = result.statuses.get(302, 0)
    answered = sum(result.statuses.values())
    unanswered = max(0, result.sent - answered)
    # The requests in flight when wrk stopped are still served: count the
    # rows once they have landed, so that every row's email is waited for.
    time.sleep(1)
    rows = stack.signatures_after(before)
    log(f"{label}: {result.rps:.0f}/s, {rows} rows; {backlog} emails still owed")
    decisions = employer_decisions(stack, before, sign_domains) if sign_domains else {}
    emails = drain_emails(stack, f"{prefix}-", before, rows, backlog, ended, args.drain_timeout)
    return (
        result.as_dict()
        | {
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
        | ({"employers": decisions} if decisions else {})
    )


def employer_decisions(
    stack: Stack, after_id: int, sign_domains: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Whose count the rows made after `after_id` went to: for each domain
    signed from, its rows (those whose domain tags start with the tag of
    that domain: the address's own domain comes first) by employer; right
    when every row is under the employer its domain makes its (None: an
    other supporter) and every row was at one of the domains."""
    rows_by_employer: dict[str, int] = {}
    wrong = checked = 0
    for domain in sign_domains:
        found: list[tuple[int | None, int]] = stack.database.rows(
            "SELECT employer_id, count(*) FROM letters_signature "
            "WHERE id > %s AND email_domains LIKE %s GROUP BY employer_id",
            (after_id, f" {domain['tag']} %"),
        )
        for employer_id, n in found:
            checked += n
            if employer_id != domain["employer_id"]:
                wrong += n
        name = domain["employer"] or "other supporters"
        rows_by_employer[name] = rows_by_employer.get(name, 0) + sum(n for _e, n in found)
    rows = stack.signatures_after(after_id)
    return {
        "rows_by_employer": rows_by_employer,
        "rows_checked": checked,
        "rows_wrong": wrong,
        "decided_right": wrong == 0 and checked == rows,
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
