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
    if results.get("mixed"):
        lines += mixed_table(results["mixed"], "mixed load (single node)")
    if results.get("cluster"):
        lines += _cluster_notes(results["cluster"])
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


def mixed_table(m: dict[str, Any], title: str) -> list[str]:
    """The mixed load's steps: one line per offered rate."""
    lines = [
        f"{title}: {m['mix']['page']}% page, {m['mix']['api']}% API, {m['mix']['sign']}% sign, "
        f"{m['mix']['confirm']}% confirm; open loop, {m['connections']} connections, "
        f"{m['seconds']:g} s per step, latency from when each request was due",
        f"{'offered/s':>10}{'answered/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'behind':>8}{'late':>7}{'p99 page':>10}{'api':>8}{'sign':>8}{'confirm':>9}"
        f"{'CPU ms/req':>12}",
    ]
    for s in m.get("steps", []):
        k = s["kinds"]
        lines.append(
            f"{s['offered']:>10,.0f}{s['rps']:>12,.1f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['errors']:>8,}{s['behind']:>8,}{s['late_share']:>7.1%}"
            f"{k['page']['p99_ms']:>10.1f}{k['api']['p99_ms']:>8.1f}{k['sign']['p99_ms']:>8.1f}"
            f"{k['confirm']['p99_ms']:>9.1f}{s['cpu_ms_per_request'].get('machine', 0):>12.3f}"
        )
    if m.get("retried"):
        lines.append(
            "run again (the first try passed the limit): "
            + ", ".join(
                f"{r['offered']:,.0f}/s (p99 {r['p99_ms']:.1f} ms, {r['rps']:,.0f}/s answered)"
                for r in m["retried"]
            )
        )
    holds, passes = m.get("holds_at"), m.get("passes_at")
    rows = m.get("rows_stored")
    held = next((s for s in m.get("steps", []) if s["offered"] == holds), None)
    if held:
        cpu = held["cpu_ms_per_request"]
        names = CPU_NAMES | CLUSTER_CPU | {"children": "wrk"}
        lines.append(
            f"CPU ms per request at {holds:,.0f}/s: "
            + ", ".join(f"{names.get(k, k)} {v:.3f}" for k, v in cpu.items() if v)
        )
    lines.append(
        f"p99 under {m['limit_ms']:g} ms up to {_num(holds, 0)} req/s offered; passes it at "
        f"{_num(passes, 0) if passes else 'none of the rates offered'}; "
        f"{m.get('signs_answered'):,} signs answered"
        + (f", {rows:,} rows stored" if rows is not None else "")
    )
    return lines


def scaling_table(results: dict[str, Any]) -> str:
    """`make bench-scaling`: one line per size, then the growth."""
    meta = results.get("meta", {})
    lines = [
        "",
        f"Undersigned cost vs size ({meta.get('finished_at')}, {meta.get('commit')}): "
        f"{meta.get('cpus')} cores, gunicorn {meta.get('gunicorn_workers')} workers, wrk "
        f"{meta.get('wrk', {}).get('connections')} connections, {meta.get('duration_s'):g} s each",
        "",
        f"{'signatures':>12}{'seed s':>8}{'page/s':>9}{'p99':>7}{'CPU':>6}{'API/s':>9}{'p99':>7}"
        f"{'sign/s':>8}{'p99':>7}{'CPU':>6}{'export s':>10}{'rows/s':>10}{'table MB':>10}"
        f"{'measure s':>11}",
        "-" * 120,
    ]
    for s in results.get("sizes", []):
        page, api, sign, export = s["letter_page"], s["api_letter"], s["sign"], s["export"]
        lines.append(
            f"{s['signatures']:>12,}{s['seed_seconds']:>8.0f}{page['rps']:>9,.0f}"
            f"{page['p99_ms']:>7.1f}{page['cpu_ms_per_request']['gunicorn']:>6.2f}"
            f"{api['rps']:>9,.0f}{api['p99_ms']:>7.1f}{sign['rps']:>8,.0f}{sign['p99_ms']:>7.1f}"
            f"{sign['cpu_ms_per_sign']['gunicorn']:>6.2f}{_num(export.get('seconds'), 2):>10}"
            f"{_num(export.get('rows_per_s'), 0):>10}{s['storage']['table_mb']:>10,.0f}"
            f"{s['measure_seconds']:>11.0f}"
        )
    lines.append("(CPU: gunicorn ms per request, per sign; p99 in ms)")
    for s in results.get("sizes", []):
        db, cpu = s["sign"].get("database", {}), s["sign"]["cpu_ms_per_sign"]
        tables = ", ".join(
            f"{name} " + "/".join(f"{k} {v:g}" for k, v in t.items() if k != "hot")
            for name, t in db.get("tables", {}).items()
        )
        lines += [
            f"{s['signatures']:,}: per sign: {db.get('rows_written')} rows written ({tables}); "
            f"{db.get('commits')} commits, {db.get('wal_bytes'):,} WAL bytes"
            + (" (server-wide)" if db.get("wal_shared") else ""),
            "    CPU ms per sign: "
            + ", ".join(f"{label} {cpu[key]:.2f}" for key, label in CPU_NAMES.items() if key in cpu)
            + f"; the machine {cpu.get('machine', 0):.2f}; export {s['export'].get('rows'):,} "
            f"rows, psql \\copy {s['export'].get('psql_copy_seconds')} s; load "
            f"{s['loadavg_before']} before / {s['loadavg_after']} after",
        ]
    g = results.get("growth")
    if g:
        lines.append(
            f"from {g['from']:,} to {g['to']:,} signatures ({g['size_ratio']:g}x): page req/s "
            f"x{g['page_rps']}, API x{g['api_rps']}, sign/s x{g['sign_rps']}; gunicorn CPU per "
            f"page x{g['page_gunicorn_cpu']}, per sign x{g['sign_gunicorn_cpu']}; export "
            f"seconds x{g['export_seconds']}, rows/s x{g['export_rows_per_s']}"
        )
    lines.append(f"run: {meta.get('seconds')} s")
    return "\n".join(lines) + "\n"


# The cluster's parts, in its rows' CPU columns.
CLUSTER_CPU = {
    "gunicorn": "gunicorn",
    "haproxy": "HAProxy",
    "pgbouncer": "PgBouncer",
    "postgres": "primary",
    "replica": "replica",
    "celery-worker": "workers",
    "machine": "machine",
}


def _cluster_notes(c: dict[str, Any]) -> list[str]:
    """The cluster's rows beside the single node's, the CPU by part, the
    sign's rows and emails, and its mixed load."""
    if c.get("skipped"):
        return [f"cluster: skipped ({c['skipped']})"]
    t, vs = c.get("topology", {}), c.get("vs_single_node", {})
    lines = [
        "",
        f"cluster: HAProxy round robin over {t.get('web_nodes')} nodes x "
        f"{t.get('gunicorn_workers_per_node')} gunicorn workers, PgBouncer "
        f"({t.get('pgbouncer')}) to the primary, a {t.get('replica')} replica, "
        f"{t.get('worker_nodes')} worker nodes x {t.get('celery_processes_per_worker_node')} "
        f"Celery processes, 1 beat; up in {t.get('start_seconds')} s, seeded in "
        f"{t.get('seed_seconds')} s (replica caught up {t.get('replica_caught_up_s')} s later)",
        f"{'through the cluster':<22}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'vs 1 node':>10}   CPU ms per request (sign): " + ", ".join(CLUSTER_CPU.values()),
    ]
    for key, label, cpu_key in (
        ("letter_page", "letter page", "cpu_ms_per_request"),
        ("api_letter", "/api/letters/<slug>/", "cpu_ms_per_request"),
        ("sign", "sign POST", "cpu_ms_per_sign"),
    ):
        row = c.get(key)
        if not row:
            continue
        cpu = row.get(cpu_key, {})
        ratio = vs.get(key)
        lines.append(
            f"{label:<22}{_num(row.get('rps')):>9}{_num(row.get('p50_ms'), 2):>8}"
            f"{_num(row.get('p99_ms'), 2):>8}{_num(row.get('errors')):>7}"
            f"{(f'{ratio:.0%}' if ratio is not None else ''):>10}   "
            + " / ".join(f"{cpu.get(k, 0):.2f}" for k in CLUSTER_CPU)
        )
    bracket = c.get("single_node") or {}
    for key, label, cpu_key, part in (
        ("letter_page", "letter page", "cpu_ms_per_request", "gunicorn"),
        ("sign", "sign POST", "cpu_ms_per_sign", "machine"),
    ):
        a, b, mine = bracket.get(f"{key}_before"), bracket.get(f"{key}_after"), c.get(key)
        if not (a and b and mine):
            continue
        own = mine[cpu_key].get(part, 0) + (mine[cpu_key].get("haproxy", 0) if key != "sign" else 0)
        lines.append(
            f"side by side, {label}: single node {a['rps']:,.1f}/s (p99 {a['p99_ms']:.1f} ms) "
            f"just before, cluster {mine['rps']:,.1f}/s (p99 {mine['p99_ms']:.1f} ms), single "
            f"node {b['rps']:,.1f}/s (p99 {b['p99_ms']:.1f} ms) just after: "
            f"{vs.get(key + '_side_by_side', 0):.0%}; {part}"
            + (" (+ HAProxy in the cluster)" if key != "sign" else "")
            + f" CPU ms {a[cpu_key].get(part, 0):.2f} / {own:.2f} / {b[cpu_key].get(part, 0):.2f}"
        )
    if c.get("sign"):
        lines += _sign_notes(c["sign"], "cluster sign")
    if c.get("mixed"):
        lines += mixed_table(c["mixed"], "mixed load (cluster)")
    if vs:
        lines.append(
            "cluster over single node (same run): "
            + ", ".join(f"{key} {value:.0%}" for key, value in vs.items())
        )
    return lines
