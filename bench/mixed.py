"""The mixed load of a viral letter, offered at rising rates until p99
passes 200 ms: per 100 requests, 90 GETs of the letter page, 5 of its API,
4 sign POSTs (each a new address, its own client address in
X-Forwarded-For) and 1 GET of a real confirmation link (collected from the
SMTP sink beforehand: signs sent first, their emails read; the links are
signed tokens, which the database cannot give back).

Open loop, as wrk2 paces it (bench/lua/mixed.lua): Debian's wrk is closed
loop (each connection sends its next request when the last is answered, so
a slow server is offered less and its queue never shows), so the script
gives each connection (one per wrk thread) its own schedule at `rate /
connections` and holds each request until it is due.  Latency counts from
when a request was due, not from when it was sent: a connection still
waiting for a slow answer sends its next request late, and that wait is
counted (coordinated omission).  Requests due before the step's end but
never answered count with the time they had waited by then (a lower
bound), so a saturated step cannot hide behind the requests it did not
send.

Each step: `offered` req/s, `rps` answered per second, p50/p99 over every
kind and per kind, `errors` (socket errors, timeouts, and answers other than
the site's refusals: statuses above 399), `behind` (requests due but not
answered by the end), `late_share` (requests sent more than 10 ms after they
were due: the generator's connections were all waiting), and the CPU ms per
request answered of each process group, PostgreSQL, wrk (`children`) and
the machine.  A step whose p99 passes the limit is run once more (on a
shared machine, a few seconds of other work can pass it once; the first try
is kept in `retried`): the ramp ends when both tries pass it.  `passes_at`
is that rate; `holds_at` the highest before it whose p99 did not.

`python -m bench.mixed` runs it alone against a fresh single-node stack (as
`make bench` starts it); `make bench` runs it after the other measurements.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import math
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.client import post_form
from bench.pipeline import sign_fields
from bench.procfs import cpu_seconds
from bench.report import log

LUA = Path(__file__).resolve().parent / "lua" / "mixed.lua"
P99_LIMIT_MS = 200.0
FULL_RATES = (250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 8000)
QUICK_RATES = (500, 1000, 2000, 3000, 4000, 6000)
CONNECTIONS = 64  # one per wrk thread; the most requests in flight at once
KINDS = ("page", "api", "sign", "confirm")
LINK = re.compile(r"https?://[^/\s]+(/s/[^\s/]+/)")


class KeepingSink(Protocol):
    """The SMTP sink (bench.smtp.Sink): keeps whole the messages to `keep`
    addresses."""

    keep: str

    @property
    def kept(self) -> list[tuple[str, bytes]]: ...


@dataclass
class Target:
    """Where the load goes: a single-node stack or the cluster (its load
    balancer).  `settle` is called before each step (waiting for the
    emails of the previous one, so each step starts with an empty outbox);
    `rows_after` counts the signatures made since the load began (None:
    not counted)."""

    base_url: str
    slug: str
    sink: KeepingSink
    workdir: Path
    settle: Callable[[], None] = lambda: None
    rows_after: Callable[[], int] | None = None
    # CPU seconds used so far by each part (bench.procfs.cpu_seconds's keys)
    cpu: Callable[[], dict[str, float]] = lambda: cpu_seconds({})


def confirm_links(
    target: Target, *, prefix: str, count: int, timeout: float = 60.0
) -> tuple[list[str], int]:
    """The paths of `count` real confirmation links, and the signs accepted
    to get them: signs sent as a browser sends them, their emails read from
    the sink."""
    target.sink.keep = prefix
    path = f"/letters/{target.slug}/sign/"
    accepted = 0
    for n in range(count):
        answer = post_form(
            target.base_url,
            path,
            sign_fields(f"{prefix}-{n}@bench.example", n),
            headers={"Accept-Language": "en", "X-Forwarded-For": f"10.250.{n // 256}.{n % 256}"},
        )
        accepted += answer.status == 302
    deadline = time.monotonic() + timeout
    links: dict[str, str] = {}
    while len(links) < accepted and time.monotonic() < deadline:
        time.sleep(0.2)
        for address, content in list(target.sink.kept):
            if address not in links:
                message = email.message_from_bytes(content, policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",))
                found = LINK.search(str(body.get_content()) if body is not None else "")
                if found:
                    links[address] = found.group(1)
    target.sink.keep = ""
    if not links:
        raise RuntimeError(f"mixed load: no confirmation link arrived ({accepted} signs accepted)")
    return sorted(links.values()), accepted


def bucket_ms(bucket: int) -> float:
    """The middle of a latency bucket of mixed.lua, in ms."""
    return math.exp((bucket + 0.5) / 100) / 1000


def percentile(counts: dict[float, int], p: float) -> float:
    """Nearest-rank percentile of {value: count}; 0.0 for none."""
    total = sum(counts.values())
    if not total:
        return 0.0
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


def step_figures(
    data: dict[str, Any], *, rate: float, seconds: float, started: float
) -> dict[str, Any]:
    """One step's figures from mixed.lua's output."""
    by_kind: dict[str, dict[float, int]] = {kind: {} for kind in KINDS}
    every: dict[float, int] = {}
    for key, n in data["hist"].items():
        kind, bucket = key.split(":")
        ms = bucket_ms(int(bucket))
        by_kind[kind][ms] = by_kind[kind].get(ms, 0) + n
        every[ms] = every.get(ms, 0) + n
    # Requests due before the end and not answered: counted with the time
    # they had waited by the end (at least that long).
    end = started + seconds * 1e6
    behind = 0
    for thread in data["threads"]:
        t0, interval, answered = thread["t0"], thread["interval"], thread["answered"]
        if not interval or end < t0:
            continue
        due = math.floor((end - t0) / interval) + 1
        for k in range(answered, due):
            waited = (end - (t0 + k * interval)) / 1000
            every[waited] = every.get(waited, 0) + 1
            behind += 1
    errors = data["errors"]
    sent = sum(t["sent"] for t in data["threads"])
    late = sum(n for b, n in data["late"].items() if bucket_ms(int(b)) > 10)
    answered = sum(sum(c.values()) for c in by_kind.values())
    return {
        "offered": rate,
        "rps": round(data["requests"] / (data["duration_us"] / 1e6), 1),
        "p50_ms": round(percentile(every, 50), 2),
        "p99_ms": round(percentile(every, 99), 2),
        # wrk's: socket errors, timeouts and answers above 399 (a sign the
        # site refuses is a 400, a confirmation link it does not take a 404)
        "errors": sum(errors.values()),
        "answered": answered,
        "sent": sent,
        "behind": behind,
        "late_share": round(late / sent, 4) if sent else 0.0,
        "kinds": {
            kind: {
                "answered": sum(counts.values()),
                "p50_ms": round(percentile(counts, 50), 2),
                "p99_ms": round(percentile(counts, 99), 2),
            }
            for kind, counts in by_kind.items()
        },
        "wrk_errors": {k: v for k, v in errors.items() if v},
    }


def run_step(
    wrk_binary: str,
    target: Target,
    *,
    rate: float,
    seconds: float,
    connections: int,
    links_file: Path,
    prefix: str,
    label: str,
) -> dict[str, Any]:
    script = target.workdir / "mixed.lua"
    script.write_text(LUA.read_text())
    argv = [
        wrk_binary, "-t", str(connections), "-c", str(connections),
        "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script),
        target.base_url + f"/letters/{target.slug}/", "--",
        str(rate), str(connections), target.slug, prefix, target.base_url, str(links_file),
    ]  # fmt: skip
    cpu_before = target.cpu()
    started = time.monotonic() * 1e6
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    cpu_after = target.cpu()
    (target.workdir / f"wrk-{label}.txt").write_text(done.stdout + done.stderr)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("MIXED_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    data = json.loads(line.removeprefix("MIXED_JSON "))
    # The schedules start at each thread's first request: the earliest is the start.
    first = min((t["t0"] for t in data["threads"] if t["t0"]), default=started)
    figures = step_figures(data, rate=rate, seconds=round(seconds), started=first)
    # Where the CPU went, in ms per request answered (`children`: wrk).
    figures["cpu_ms_per_request"] = {
        key: round((cpu_after[key] - cpu_before[key]) * 1000 / max(1, figures["answered"]), 3)
        for key in cpu_after
    }
    return figures


def measure_mixed(
    wrk_binary: str,
    target: Target,
    *,
    run_id: str,
    rates: Sequence[float],
    seconds: float,
    connections: int = CONNECTIONS,
    links: int = 200,
    limit_ms: float = P99_LIMIT_MS,
    warmup: float = 2.0,
    label: str = "mixed",
) -> dict[str, Any]:
    """The steps, one rate after another, until one's p99 passes `limit_ms`;
    first `warmup` s at the first rate, not counted (every connection's
    first request, the workers' first pages)."""
    prefix = f"{label[0]}{run_id}"
    paths, link_signs = confirm_links(target, prefix=f"{prefix}c", count=links)
    links_file = target.workdir / f"{label}-links.txt"
    links_file.write_text("\n".join(paths) + "\n")
    warm_signs = 0
    if warmup > 0:
        warm = run_step(
            wrk_binary,
            target,
            rate=rates[0],
            seconds=warmup,
            connections=connections,
            links_file=links_file,
            prefix=f"{prefix}w",
            label=f"{label}-warmup",
        )
        warm_signs = warm["kinds"]["sign"]["answered"]
    steps: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    for n, rate in enumerate(rates):
        # A step whose p99 passes the limit is run once more: on a shared
        # machine a few seconds of someone else's work can pass it once;
        # the ramp ends when both tries pass it.
        for attempt in ("", "b"):
            target.settle()
            step = run_step(
                wrk_binary,
                target,
                rate=rate,
                seconds=seconds,
                connections=connections,
                links_file=links_file,
                prefix=f"{prefix}s{n}{attempt}",
                label=f"{label}-{rate:g}{attempt}",
            )
            log(
                f"{label}: {rate:g}/s offered, {step['rps']:.0f}/s answered, p50 "
                f"{step['p50_ms']:.1f} ms, p99 {step['p99_ms']:.1f} ms, {step['errors']} errors"
                + (" (second try)" if attempt else "")
            )
            if step["p99_ms"] <= limit_ms or attempt:
                break
            retried.append(step)
        steps.append(step)
        if step["p99_ms"] > limit_ms:
            break
    target.settle()
    under = [s for s in steps if s["p99_ms"] <= limit_ms]
    over = [s for s in steps if s["p99_ms"] > limit_ms]
    signs = sum(s["kinds"]["sign"]["answered"] for s in [*steps, *retried])
    return {
        "mix": {"page": 90, "api": 5, "sign": 4, "confirm": 1},
        "limit_ms": limit_ms,
        "seconds": seconds,
        "connections": connections,
        "confirm_links": len(paths),
        "holds_at": under[-1]["offered"] if under else None,
        "passes_at": over[0]["offered"] if over else None,
        # The signs answered (the load's, the warm-up's, and those accepted
        # for the links): with no errors, every one is a row (and a few
        # more may be, sent as wrk stopped).
        "signs_answered": signs + warm_signs + link_signs,
        **({"rows_stored": target.rows_after()} if target.rows_after else {}),
        "steps": steps,
        # the first tries that passed the limit, each run again (`steps`
        # holds the second)
        "retried": retried,
    }


def main(argv: list[str] | None = None) -> int:
    """The mixed load alone, against a fresh single-node stack."""
    from bench.run import new_run_dir, opened, parse_args, seed
    from bench.stack import Stack, StackOptions
    from bench.wrk import ensure_wrk

    parser = argparse.ArgumentParser(prog="python -m bench.mixed", description=__doc__)
    parser.add_argument("--rates", help="comma-separated req/s (default: the full or quick list)")
    parser.add_argument("--seconds", type=float, help="seconds per step (10; quick 3)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    own, rest = parser.parse_known_args(argv)
    args = parse_args(rest)
    run_id = time.strftime("%m%d%H%M%S") + "mx"
    workdir = new_run_dir(run_id)
    binary = ensure_wrk()
    stack = Stack(run_id=run_id, workdir=workdir, options=StackOptions.from_args(args))
    with opened(stack):
        info = seed(stack, args.signatures, 0)
        stack.start_site()
        result = measure_mixed(
            binary,
            single_node_target(stack, info["slug"]),
            run_id=run_id,
            rates=parse_rates(own.rates, quick=args.quick),
            seconds=own.seconds or (3.0 if args.quick else 10.0),
            connections=own.connections,
        )
    print(json.dumps(result, indent=2))
    from bench.report import mixed_table

    print("\n".join(mixed_table(result, "mixed load (single node)")))
    return 0


def parse_rates(text: str | None, *, quick: bool) -> list[float]:
    if text:
        return [float(r) for r in text.split(",") if r.strip()]
    return list(QUICK_RATES if quick else FULL_RATES)


def single_node_target(stack: Any, slug: str, drain_timeout: float = 30.0) -> Target:
    """The single-node stack (bench.stack.Stack) as a target: between steps,
    the emails owed by the load's signatures are waited for (at most
    `drain_timeout` s)."""
    before = stack.last_signature_id()

    def settle() -> None:
        deadline = time.monotonic() + drain_timeout
        while stack.owed_emails(before) and time.monotonic() < deadline:
            time.sleep(0.5)

    return Target(
        base_url=stack.base_url,
        slug=slug,
        sink=stack.smtp.sink,
        workdir=stack.workdir,
        settle=settle,
        rows_after=lambda: stack.signatures_after(before),
        cpu=lambda: cpu_seconds(stack.process_groups(), database=stack.database.name),
    )


if __name__ == "__main__":
    raise SystemExit(main())
