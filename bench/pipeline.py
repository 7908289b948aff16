"""The confirmation pipeline: signs sent at a steady rate by a Python client
(it must know when each sign was sent, to time it to the inbox), timed from
sign to inbox; then the email capacity: `--burst` confirmation emails made
owed at once (bench.burst), timed to the last one in the sink."""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.client import post_form
from bench.commands import run_python
from bench.procfs import cpu_seconds
from bench.stack import Stack


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def sign_fields(email: str, n: int) -> dict[str, str]:
    """The sign form of the `n`th steady signer (one in four anonymous)."""
    return {
        "name": f"Pipeline Signer {n}",
        "email": email,
        "job_title": "Engineer",
        "team": "Engineering",
        "location": "Berlin",
        "display": "public" if n % 4 else "anonymous",
        "consent": "on",
        "website": "",
    }


@dataclass
class SteadySigns:
    """`count` signs sent at `rate` per second (each on its own thread from a
    pool, so a slow answer does not delay the next send)."""

    sent: dict[str, float] = field(default_factory=dict)  # email -> send time (monotonic)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    first_sent: float = 0.0
    last_answer: float = 0.0

    @property
    def answered_per_s(self) -> float:
        """Answers per second, from the first sign due to the last answer."""
        span = self.last_answer - self.first_sent
        return len(self.latencies_ms) / span if span > 0 else 0.0


def steady_signs(
    base_url: str, sign_path: str, *, prefix: str, rate: float, count: int
) -> SteadySigns:
    result = SteadySigns()
    lock = threading.Lock()

    def one(n: int, due: float) -> None:
        # Times count from when the sign was due, not from when a thread was
        # free to send it: a saturated site must not hide its queue.
        email = f"{prefix}-{n}@bench.example"
        with lock:
            result.sent[email] = due
        try:
            answer = post_form(
                base_url,
                sign_path,
                sign_fields(email, n),
                headers={
                    "Accept-Language": "en",
                    "X-Forwarded-For": f"10.200.{n // 256 % 256}.{n % 256}",
                },
            )
        except OSError:
            with lock:
                result.failures += 1
            return
        with lock:
            finished = answer.started + answer.seconds
            result.latencies_ms.append((finished - due) * 1000)
            result.last_answer = max(result.last_answer, finished)
            result.statuses[answer.status] = result.statuses.get(answer.status, 0) + 1

    start = time.monotonic()
    # Enough threads that answers slower than 1/rate do not hold back sends.
    with ThreadPoolExecutor(max_workers=max(64, min(1024, round(rate * 10)))) as pool:
        for n in range(count):
            due = start + n / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(one, n, due)
    result.first_sent = start
    return result


def measure_pipeline(
    stack: Stack, args: argparse.Namespace, slug: str, run_id: str
) -> dict[str, Any]:
    prefix = f"p{run_id}"
    count = max(1, round(args.pipeline_rate * args.pipeline_seconds))
    signs = steady_signs(
        stack.base_url,
        f"/letters/{slug}/sign/",
        prefix=prefix,
        rate=args.pipeline_rate,
        count=count,
    )
    accepted = signs.statuses.get(302, 0)
    found = stack.wait_for_emails(f"{prefix}-", accepted, args.inbox_timeout)
    first_arrival: dict[str, float] = {}
    for arrived, address in sorted(found):
        first_arrival.setdefault(address, arrived)
    delays = [
        first_arrival[address] - sent
        for address, sent in signs.sent.items()
        if address in first_arrival
    ]
    arrivals = sorted(first_arrival.values())
    bad = sum(n for status, n in signs.statuses.items() if not 200 <= status < 400)
    return {
        "rps": round(signs.answered_per_s, 1),
        "p50_ms": round(percentile(signs.latencies_ms, 50), 2),
        "p99_ms": round(percentile(signs.latencies_ms, 99), 2),
        "errors": bad + signs.failures + (accepted - len(delays)),
        "p50_s": round(percentile(delays, 50), 3),
        "p95_s": round(percentile(delays, 95), 3),
        "max_s": round(max(delays), 3) if delays else None,
        "signs": count,
        "rate": args.pipeline_rate,
        "accepted": accepted,
        "delivered": len(delays),
        "steady_emails_per_s": round((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), 1)
        if len(arrivals) >= 2 and arrivals[-1] > arrivals[0]
        else 0.0,
    }


def measure_burst(stack: Stack, args: argparse.Namespace, slug: str, run_id: str) -> dict[str, Any]:
    """`--burst` confirmation emails queued at once (bench.burst); the rate at
    which the sink receives them is the pipeline's email capacity.  The Celery
    worker's CPU from before the burst to its last email, per email
    delivered, is what sending one costs (opening its sealed address
    included)."""
    prefix = f"b{run_id}"
    before = stack.last_signature_id()
    groups = {
        name: pgid for name, pgid in stack.process_groups().items() if name == "celery-worker"
    }
    cpu_before = cpu_seconds(groups, database=stack.database.name)
    out = run_python(
        ["-m", "bench.burst", "--slug", slug, "--prefix", prefix, "--count", str(args.burst)],
        env=stack.env(),
        timeout=600,
        what="burst",
        log_path=stack.workdir / "burst.log",
    )
    info = json.loads(out.strip().splitlines()[-1])
    found = stack.wait_for_emails(f"{prefix}-", args.burst, args.drain_timeout)
    cpu_after = cpu_seconds(groups, database=stack.database.name)
    times = sorted(t for t, _a in found)
    delivered = len({a for _t, a in found})
    if delivered < args.burst:
        stack.drop_owed_emails(before)
    start = float(info["committing_at"])
    return {
        "emails": args.burst,
        "delivered": delivered,
        "emails_per_s": round(len(times) / (times[-1] - start), 1) if times else 0.0,
        "first_to_last_per_s": round((len(times) - 1) / (times[-1] - times[0]), 1)
        if len(times) >= 2 and times[-1] > times[0]
        else 0.0,
        "seconds": round(times[-1] - start, 2) if times else None,
        "enqueue_s": round(float(info["enqueued_at"]) - start, 2),
        "cpu_ms_per_email": {
            key: round((cpu_after[key] - cpu_before[key]) * 1000 / delivered, 3) for key in groups
        }
        if delivered
        else {},
    }
