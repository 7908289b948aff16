"""What the runner prints: its progress lines, and the table (from the same
dict as bench/results/latest.json)."""

from __future__ import annotations

from typing import Any

ROWS = [
    ("baseline", "baseline (minimal view)"),
    ("letter_page", "letter page (big letter)"),
    ("letter_page_304", "letter page, 304"),
    ("api_letter", "/api/letters/<slug>/"),
    ("sign", "sign POST"),
    ("pipeline", "pipeline signs (steady)"),
    ("export", "export CSV (1 request)"),
]

# Where the CPU went while signing: the keys of `cpu_ms_per_sign`, named.
CPU_NAMES = {
    "gunicorn": "gunicorn",
    "postgres": "PostgreSQL",
    "celery-worker": "Celery worker",
    "celery-beat": "beat",
    "redis": "Redis",
    "runner": "runner and SMTP sink",
    "children": "wrk",
}


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def table(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    lines = ["", _heading(meta), "", *_measurements(results), ""]
    for key, notes in (
        ("letter_page_304", _conditional_notes),
        ("sign", _sign_notes),
        ("pipeline", _pipeline_notes),
        ("export", _export_notes),
        ("sealing", _sealing_notes),
    ):
        if results.get(key):
            lines += notes(results[key])
    lines.append(
        f"run: {meta.get('seconds')} s (seeding {meta.get('seed_seconds')} s), "
        f"database on the {meta.get('database')}, load average {meta.get('loadavg_before')} "
        f"before / {meta.get('loadavg_after')} after, logs in {meta.get('logs')}"
    )
    return "\n".join(lines) + "\n"


def _heading(meta: dict[str, Any]) -> str:
    return (
        f"Undersigned benchmark ({meta.get('mode')}, {meta.get('finished_at')}, "
        f"{meta.get('commit')}): {meta.get('cpus')} cores, gunicorn "
        f"{meta.get('gunicorn_workers')} workers, Celery {meta.get('celery_concurrency')} "
        f"processes, wrk {meta.get('wrk', {}).get('connections')} connections, "
        f"{meta.get('duration_s'):g} s each; {meta.get('signatures'):,} signatures "
        f"({meta.get('public_signatures'):,} public)"
    )


def _measurements(results: dict[str, Any]) -> list[str]:
    """The table proper: one line per measurement, against the baseline."""
    ratios = results.get("ratios", {})
    lines = [
        f"{'measurement':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
        f"{'vs baseline':>13}",
        "-" * 77,
    ]
    for key, label in ROWS:
        row = results.get(key)
        if not row:
            continue
        ratio = ratios.get(key)
        lines.append(
            f"{label:<26}{_num(row.get('rps')):>10}{_num(row.get('p50_ms'), 2):>10}"
            f"{_num(row.get('p99_ms'), 2):>10}{_num(row.get('errors')):>8}"
            f"{(f'{ratio:.0%}' if ratio is not None else ''):>13}"
        )
    return lines


def _conditional_notes(c: dict[str, Any]) -> list[str]:
    return [f"304: {c.get('not_modified_share', 0):.1%} of conditional GETs not modified"]


def _sign_notes(s: dict[str, Any]) -> list[str]:
    m = s.get("emails", {})
    purged = f" ({m['purged']:,} purged)" if m.get("purged") is not None else ""
    notes = [
        f"sign: {s.get('accepted'):,} accepted (302), {s.get('rows_stored'):,} rows stored, "
        f"{s.get('unanswered_at_stop')} in flight when wrk stopped "
        f"(rows match: {'yes' if s.get('rows_match_accepted') else 'NO'}); "
        f"other statuses: {s.get('other_statuses') or 'none'}",
        f"      their emails: {m.get('delivered'):,}/{m.get('expected'):,} delivered, "
        f"{m.get('queued_at_stop'):,} still owed when signing stopped, the last "
        f"{m.get('last_after_stop_s')} s after{purged}",
    ]
    cpu = s.get("cpu_ms_per_sign")
    if cpu:
        parts = ", ".join(
            f"{label} {cpu[key]:.2f}" for key, label in CPU_NAMES.items() if key in cpu
        )
        notes.append(f"      CPU ms per sign: {parts}; the machine {cpu.get('machine', 0):.2f}")
    return notes


def _pipeline_notes(p: dict[str, Any]) -> list[str]:
    b = p.get("burst", {})
    worker_ms = b.get("cpu_ms_per_email", {}).get("celery-worker")
    return [
        f"pipeline: sign-to-inbox p50 {p.get('p50_s')} s, p95 {p.get('p95_s')} s, max "
        f"{p.get('max_s')} s at {p.get('rate'):g} signs/s offered ({p.get('delivered'):,}/"
        f"{p.get('signs'):,} delivered)",
        f"          {p.get('emails_per_s')} emails/s: {b.get('delivered'):,}/"
        f"{b.get('emails'):,} emails queued at once, the last after {b.get('seconds')} s; "
        f"Celery worker CPU {_num(worker_ms, 2)} ms per email",
    ]


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _sealing_notes(s: dict[str, Any]) -> list[str]:
    return [
        f"sealing (CPU per call, median of {s.get('calls'):,}): seal {s.get('seal_us')} µs "
        f"and hash {s.get('hash_us')} µs per sign = "
        f"{_share(s.get('seal_of_gunicorn_per_sign'))} (seal) of gunicorn's CPU per sign, "
        f"{_share(s.get('seal_and_hash_of_machine_per_sign'))} (both) of the machine's;",
        f"         open {s.get('open_us')} µs per email = "
        f"{_share(s.get('open_of_worker_per_email'))} of the Celery worker's CPU per email "
        f"(burst); sealed address {s.get('sealed_bytes')} bytes",
    ]


def _export_notes(e: dict[str, Any]) -> list[str]:
    return [
        f"export: {e.get('seconds')} s for {e.get('rows'):,} rows ({e.get('megabytes')} MB, "
        f"expected {e.get('expected_rows'):,}); psql \\copy {e.get('psql_copy_seconds')} s "
        f"(export = {e.get('vs_psql_copy')}x); peak RSS {e.get('peak_rss_mb')} MB "
        f"(+{e.get('rss_growth_mb')} MB over {e.get('rss_before_mb')} MB)"
    ]
