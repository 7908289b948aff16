"""The read measurements, with wrk: the baseline (a minimal Django view on
its own gunicorn with the same settings), then the big letter's page, the
coalition letter's page (its per-employer counts), the big letter's page
revalidated (304), the big letter's API and the coalition's API.  Each
coalition row is measured right after its big-letter row, so that the two
see the same machine as nearly as a shared machine allows.

Besides wrk's figures, each row has `cpu_ms_per_request`: the CPU time of
the gunicorn serving it (its whole process group) and of the private Redis
per request answered, from /proc.  On a machine shared with other work,
requests/s follow the other work; the web server's own CPU per request much
less so (the PostgreSQL server is shared with other users of the machine:
it is not counted here)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.client import request, response_bytes
from bench.processes import free_port
from bench.procfs import cpu_seconds
from bench.stack import Stack
from bench.wrk import Wrk, WrkResult


def with_cpu(
    stack: Stack, web: str, run: Callable[[], WrkResult]
) -> tuple[WrkResult, dict[str, Any]]:
    """`run()`'s result, and its figures with the CPU ms per request
    answered of the process group `web` (a gunicorn) and of Redis."""
    groups = {name: pgid for name, pgid in stack.process_groups().items() if name in (web, "redis")}
    before = cpu_seconds(groups)
    result = run()
    after = cpu_seconds(groups)
    answered = max(1, result.requests)
    cpu = {
        "gunicorn" if name == web else name: round(
            (after[name] - before[name]) * 1000 / answered, 3
        )
        for name in groups
    }
    return result, result.as_dict() | {"cpu_ms_per_request": cpu}


def measure_baseline(stack: Stack, wrk: Wrk, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    proc = stack.start_baseline(port)
    try:
        url = f"http://127.0.0.1:{port}/"
        wrk.run(url, script="get", seconds=args.warmup, label="baseline-warmup")
        _result, figures = with_cpu(
            stack,
            proc.name,
            lambda: wrk.run(url, script="get", seconds=args.duration, label="baseline"),
        )
        return figures
    finally:
        stack.processes.stop(proc)


def measure_get(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, path: str, label: str
) -> dict[str, Any]:
    """Plain GETs of one path after a warm-up.  `first_request_ms` is the
    first request's time (before the warm-up: the page built, not cached)."""
    first = request(stack.base_url, "GET", path)
    if first.status != 200:
        raise RuntimeError(f"{path} answered {first.status}")
    url = stack.base_url + path
    wrk.run(url, script="get", seconds=args.warmup, label=f"{label}-warmup")
    _result, figures = with_cpu(
        stack,
        "gunicorn",
        lambda: wrk.run(url, script="get", seconds=args.duration, label=label),
    )
    return figures | {
        "page_bytes": len(first.body),
        "first_request_ms": round(first.seconds * 1000, 1),
    }


def measure_reads(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, slug: str, coalition_slug: str = ""
) -> dict[str, dict[str, Any]]:
    """The big letter's page, 304 and API; with `coalition_slug`, that
    letter's page and API each right after the big letter's."""
    out = {"letter_page": measure_get(stack, wrk, args, f"/letters/{slug}/", "letter-page")}
    if coalition_slug:
        path = f"/letters/{coalition_slug}/"
        out["coalition_page"] = measure_get(stack, wrk, args, path, "coalition-page")
    out["letter_page_304"] = measure_conditional(stack, wrk, args, f"/letters/{slug}/")
    out["api_letter"] = measure_get(stack, wrk, args, f"/api/letters/{slug}/", "api")
    if coalition_slug:
        path = f"/api/letters/{coalition_slug}/"
        out["coalition_api"] = measure_get(stack, wrk, args, path, "coalition-api")
    return out


def measure_conditional(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, path: str
) -> dict[str, Any]:
    """Conditional GETs with the page's ETag, measured like the baseline: wrk's
    plain script (no Lua per response, which costs wrk, on the same cores,
    more than the server spends on a 304).  Which answers were 304s follows
    exactly from the bytes wrk read, a 304 and a 200 each having a fixed
    size; the ETag is checked to be current before and after."""
    etag = request(stack.base_url, "GET", path).headers.get("etag", "")
    conditional = {"If-None-Match": etag}
    before, size_304 = response_bytes(stack.base_url, path, conditional)
    _status, size_200 = response_bytes(stack.base_url, path, {})
    result, figures = with_cpu(
        stack,
        "gunicorn",
        lambda: wrk.run(
            stack.base_url + path,
            script="get",
            seconds=args.duration,
            headers=(f"If-None-Match: {etag}",),
            label="letter-page-304",
        ),
    )
    after, _size = response_bytes(stack.base_url, path, conditional)
    full = round((result.bytes - result.requests * size_304) / max(1, size_200 - size_304))
    full = min(result.requests, max(0, full))
    statuses = {304: result.requests - full} | ({200: full} if full else {})
    return figures | {
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "not_modified_share": round(statuses[304] / result.requests, 4) if result.requests else 0,
        "bytes_304": size_304,
        "bytes_200": size_200,
        "etag_answers": [before, after],
    }
