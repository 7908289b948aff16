"""The export measurement: the streamed CSV export of the big letter's
public signatories, read to the end while the memory of the gunicorn worker
serving it is sampled, against `psql \\copy` of the same rows (the floor)."""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from bench.procfs import children, memory_kb
from bench.stack import Stack

# The rows and order the export streams.
EXPORT_SQL = (
    "SELECT name, job_title, team, location, comment, confirmed_at FROM letters_signature "
    "WHERE letter_id = {letter_id} AND status = 'confirmed' AND display = 'public' "
    "AND NOT flagged ORDER BY confirmed_at, id"
)


@dataclass
class ExportRun:
    status: int
    seconds: float
    bytes: int
    rows: int
    complete: bool
    serving_pid: int
    rss_before_mb: float
    peak_rss_mb: float
    error: str = ""

    @property
    def rss_growth_mb(self) -> float:
        return self.peak_rss_mb - self.rss_before_mb

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 2),
            "status": self.status,
            "complete": self.complete,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "rss_growth_mb": round(self.rss_growth_mb, 1),
            **({"error": self.error} if self.error else {}),
        }


class RssSampler:
    """Polls VmRSS of every gunicorn worker (children of the master) while a
    request runs; the worker whose RSS grew most is the one serving it."""

    def __init__(self, master_pid: int, interval: float = 0.01) -> None:
        self.master_pid = master_pid
        self.interval = interval
        self.before: dict[int, int] = {}
        self.peak: dict[int, int] = {}
        self.hwm: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        for pid in children(self.master_pid) if not self.peak else list(self.peak):
            values = memory_kb(pid)
            if "VmRSS" in values:
                self.peak[pid] = max(self.peak.get(pid, 0), values["VmRSS"])
                self.hwm[pid] = values.get("VmHWM", 0)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        for pid in children(self.master_pid):
            self.before[pid] = memory_kb(pid).get("VmRSS", 0)
        self.peak = dict(self.before)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def serving(self) -> tuple[int, float, float]:
        """(pid, RSS before in MB, peak RSS in MB) of the worker that grew most."""
        if not self.peak:
            return 0, 0.0, 0.0
        pid = max(self.peak, key=lambda p: self.peak[p] - self.before.get(p, 0))
        return pid, self.before.get(pid, 0) / 1024, self.peak[pid] / 1024


def export_once(
    base_url: str, path: str, *, cookie: str, master_pid: int, timeout: float = 600
) -> ExportRun:
    """Stream one export to nowhere, counting bytes and lines."""
    parts = urllib.parse.urlsplit(base_url)
    total = lines = 0
    status = 0
    complete = False
    error = ""
    with RssSampler(master_pid) as sampler:
        started = time.monotonic()
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            status = response.status
            while chunk := response.read(1 << 16):
                total += len(chunk)
                lines += chunk.count(b"\n")
            complete = status == 200
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        seconds = time.monotonic() - started
    pid, before, peak = sampler.serving()
    return ExportRun(
        status=status,
        seconds=seconds,
        bytes=total,
        rows=max(0, lines - 1),
        complete=complete,
        serving_pid=pid,
        rss_before_mb=before,
        peak_rss_mb=peak,
        error=error,
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def psql_copy_seconds(stack: Stack, letter_id: int, runs: int) -> list[float]:
    """Seconds of `psql \\copy` of the exported rows to /dev/null, `runs`
    times (none without psql)."""
    psql = shutil.which("psql")
    if not psql:
        return []
    sql = EXPORT_SQL.format(letter_id=letter_id)
    command = [
        psql, stack.database.url, "-X", "-q", "-v", "ON_ERROR_STOP=1",
        "-c", f"\\copy ({sql}) TO '/dev/null' WITH (FORMAT csv, HEADER)",
    ]  # fmt: skip
    seconds: list[float] = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(command, check=True, capture_output=True)
        seconds.append(time.monotonic() - started)
    return seconds


def measure_export(
    stack: Stack, args: argparse.Namespace, info: dict[str, Any], web_pid: int
) -> dict[str, Any]:
    path = f"/organise/{info['slug']}/export/signatories/?format=csv"
    cookie = f"{info['session_cookie']}={info['sessionid']}"
    runs = [
        export_once(stack.base_url, path, cookie=cookie, master_pid=web_pid)
        for _ in range(args.export_runs)
    ]
    ok = [r for r in runs if r.complete]
    copies = psql_copy_seconds(stack, int(info["letter_id"]), args.export_runs)
    seconds = [r.seconds for r in ok]
    best = max(runs, key=lambda r: r.rss_growth_mb)
    copy_s = median(copies) if copies else None
    export_s = median(seconds) if seconds else None
    return {
        "rps": round(1 / export_s, 3) if export_s else 0.0,
        "p50_ms": round(export_s * 1000, 1) if export_s else None,
        "p99_ms": round(max(seconds) * 1000, 1) if seconds else None,
        "errors": len(runs) - len(ok),
        "seconds": round(export_s, 2) if export_s else None,
        "peak_rss_mb": round(best.peak_rss_mb, 1),
        "rss_before_mb": round(best.rss_before_mb, 1),
        "rss_growth_mb": round(best.rss_growth_mb, 1),
        "psql_copy_seconds": round(copy_s, 3) if copy_s is not None else None,
        "vs_psql_copy": round(export_s / copy_s, 2) if export_s and copy_s else None,
        "rows": ok[0].rows if ok else 0,
        "expected_rows": info["public_signatures"],
        "megabytes": round(ok[0].bytes / 1e6, 1) if ok else 0,
        "rows_per_s": round(ok[0].rows / export_s) if ok and export_s else 0,
        "runs": [r.as_dict() for r in runs],
    }
