"""The read measurements, with wrk: the baseline (a minimal Django view on
its own gunicorn with the same settings), the big letter's page, the same
page revalidated (304), and its API."""

from __future__ import annotations

import argparse
from typing import Any

from bench.client import request, response_bytes
from bench.processes import free_port
from bench.stack import Stack
from bench.wrk import Wrk


def measure_baseline(stack: Stack, wrk: Wrk, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    proc = stack.start_baseline(port)
    try:
        url = f"http://127.0.0.1:{port}/"
        wrk.run(url, script="get", seconds=args.warmup, label="baseline-warmup")
        result = wrk.run(url, script="get", seconds=args.duration, label="baseline")
    finally:
        stack.processes.stop(proc)
    return result.as_dict()


def measure_reads(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, slug: str
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    page = f"{stack.base_url}/letters/{slug}/"
    first = request(stack.base_url, "GET", f"/letters/{slug}/")
    if first.status != 200:
        raise RuntimeError(f"letter page answered {first.status}")
    wrk.run(page, script="get", seconds=args.warmup, label="letter-page-warmup")
    result = wrk.run(page, script="get", seconds=args.duration, label="letter-page")
    out["letter_page"] = result.as_dict() | {
        "page_bytes": len(first.body),
        "first_request_ms": round(first.seconds * 1000, 1),
    }

    out["letter_page_304"] = measure_conditional(stack, wrk, args, f"/letters/{slug}/")

    api = f"{stack.base_url}/api/letters/{slug}/"
    wrk.run(api, script="get", seconds=args.warmup, label="api-warmup")
    out["api_letter"] = wrk.run(api, script="get", seconds=args.duration, label="api").as_dict()
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
    result = wrk.run(
        stack.base_url + path,
        script="get",
        seconds=args.duration,
        headers=(f"If-None-Match: {etag}",),
        label="letter-page-304",
    )
    after, _size = response_bytes(stack.base_url, path, conditional)
    full = round((result.bytes - result.requests * size_304) / max(1, size_200 - size_304))
    full = min(result.requests, max(0, full))
    statuses = {304: result.requests - full} | ({200: full} if full else {})
    return result.as_dict() | {
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "not_modified_share": round(statuses[304] / result.requests, 4) if result.requests else 0,
        "bytes_304": size_304,
        "bytes_200": size_200,
        "etag_answers": [before, after],
    }
