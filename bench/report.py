"""What the runner prints: its progress lines, and the table (from the same
dict as bench/results/latest.json)."""

from __future__ import annotations

from typing import Any

ROWS = [
    ("baseline", "baseline (minimal view)"),
    ("letter_page", "letter page (big letter)"),
    ("letter_page_304", "letter page, 304"),
    ("api_letter", "/api/letters/<slug>/"),
    ("coalition_page", "coalition letter page"),
    ("coalition_api", "coalition API"),
    ("sign", "sign POST"),
    ("coalition_sign", "sign POST (coalition)"),
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
        ("cpu_ratios", _cpu_ratio_notes),
        ("letter_page_304", _conditional_notes),
        ("sign", _sign_notes),
        ("coalition_sign", lambda s: _sign_notes(s, "coalition sign")),
        ("coalition", _coalition_notes),
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
    """The table proper: one line per measurement, against the baseline, with
    the CPU of the gunicorn that served it per request answered (reads) or
    per sign."""
    ratios = results.get("ratios", {})
    lines = [
        f"{'measurement':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
        f"{'vs baseline':>13}{'gunicorn CPU ms':>17}",
        "-" * 94,
    ]
    for key, label in ROWS:
        row = results.get(key)
        if not row:
            continue
        ratio = ratios.get(key)
        cpu = (row.get("cpu_ms_per_request") or row.get("cpu_ms_per_sign") or {}).get("gunicorn")
        lines.append(
            f"{label:<26}{_num(row.get('rps')):>10}{_num(row.get('p50_ms'), 2):>10}"
            f"{_num(row.get('p99_ms'), 2):>10}{_num(row.get('errors')):>8}"
            f"{(f'{ratio:.0%}' if ratio is not None else ''):>13}"
            f"{(_num(cpu, 2) if cpu is not None else ''):>17}"
        )
    return lines


def _cpu_ratio_notes(ratios: dict[str, Any]) -> list[str]:
    names = dict(ROWS)
    parts = ", ".join(f"{names.get(key, key)} {ratio:.0%}" for key, ratio in ratios.items())
    return [f"gunicorn CPU per request, the baseline's over the row's: {parts}"]


def _conditional_notes(c: dict[str, Any]) -> list[str]:
    return [f"304: {c.get('not_modified_share', 0):.1%} of conditional GETs not modified"]


def _sign_notes(s: dict[str, Any], name: str = "sign") -> list[str]:
    m = s.get("emails", {})
    purged = f" ({m['purged']:,} purged)" if m.get("purged") is not None else ""
    indent = " " * (len(name) + 2)
    notes = [
        f"{name}: {s.get('accepted'):,} accepted (302), {s.get('rows_stored'):,} rows stored, "
        f"{s.get('unanswered_at_stop')} in flight when wrk stopped "
        f"(rows match: {'yes' if s.get('rows_match_accepted') else 'NO'}); "
        f"other statuses: {s.get('other_statuses') or 'none'}",
        f"{indent}their emails: {m.get('delivered'):,}/{m.get('expected'):,} delivered, "
        f"{m.get('queued_at_stop'):,} still owed when signing stopped, the last "
        f"{m.get('last_after_stop_s')} s after{purged}",
    ]
    cpu = s.get("cpu_ms_per_sign")
    if cpu:
        parts = ", ".join(
            f"{label} {cpu[key]:.2f}" for key, label in CPU_NAMES.items() if key in cpu
        )
        notes.append(f"{indent}CPU ms per sign: {parts}; the machine {cpu.get('machine', 0):.2f}")
    return notes


def _coalition_notes(c: dict[str, Any]) -> list[str]:
    """The coalition letter: its employers' counts (checked four ways at
    seeding), what reading them costs, its rows against the big letter's,
    and whose count the signs it took went to."""
    employers = c.get("employers", [])
    shares = ", ".join(f"{e['name']} {e['confirmed']:,}" for e in employers)
    paper = sum(e["paper"] for e in employers) + c.get("supporters_paper", 0)
    vs, cpu = c.get("vs_big_letter", {}), c.get("cpu_vs_big_letter", {})
    notes = [
        f"coalition: {len(employers)} employers, {c.get('signatures'):,} signatures "
        f"({c.get('public_signatures'):,} public): {shares}; other supporters "
        f"{c.get('supporters'):,}; {paper:,} on paper",
        f"           counts agree (seeded, GROUP BY, EmployerStats, employer_counts): "
        f"{'yes' if c.get('counts_agree') else 'NO'}; employer_counts "
        f"{c.get('employer_counts_ms')} ms in {c.get('employer_counts_queries')} queries "
        f"(letter_counts {c.get('letter_counts_ms')} ms)",
        f"           against the big letter: page {vs.get('page', 0):.0%}, API "
        f"{vs.get('api', 0):.0%}, sign {vs.get('sign', 0):.0%} (req/s); page "
        f"{cpu.get('page', 0):.0%}, API {cpu.get('api', 0):.0%}, sign {cpu.get('sign', 0):.0%} "
        "(gunicorn CPU per request, the big letter's over the coalition's)",
    ]
    decided = c.get("sign_employers")
    if decided:
        by = ", ".join(f"{name} {n:,}" for name, n in decided["rows_by_employer"].items())
        notes.append(
            f"           signs: {decided['rows_checked']:,} rows, each under the employer its "
            f"domain makes its: {'yes' if decided['decided_right'] else 'NO'} ({by})"
        )
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
