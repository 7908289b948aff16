"""Load generators: wrk (with the Lua scripts in bench/lua) for throughput,
a steady-rate Python client for the confirmation pipeline (it must know when
each sign was sent, to time it to the inbox), and a streaming reader for the
export that samples the memory of the gunicorn workers meanwhile."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stack import children, memory_kb

LUA_DIR = Path(__file__).resolve().parent / "lua"


def ensure_wrk() -> str:
    """wrk from Debian, installed if missing (as .ci/run does for chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: installing wrk from Debian (apt-get install -y wrk)", flush=True)
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(install, env=env, check=False)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is missing and could not be installed: apt-get install wrk")
    return found


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# --- wrk ------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    status_errors: int  # answers with a status above 399
    timeouts: int
    statuses: dict[int, int]
    sent: int
    bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.status_errors + self.timeouts

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "p90_ms": round(self.p90_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "socket_errors": self.socket_errors,
            "status_errors": self.status_errors,
            "timeouts": self.timeouts,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class Wrk:
    def __init__(self, binary: str, workdir: Path, *, threads: int, connections: int) -> None:
        self.binary = binary
        self.workdir = workdir
        self.threads = threads
        self.connections = connections

    def script(self, name: str) -> Path:
        """bench/lua/common.lua followed by bench/lua/<name>.lua, in the run dir."""
        path = self.workdir / f"{name}.lua"
        common = (LUA_DIR / "common.lua").read_text()
        path.write_text(common + "\n" + (LUA_DIR / f"{name}.lua").read_text())
        return path

    def run(
        self,
        url: str,
        *,
        script: str,
        seconds: float,
        args: tuple[str, ...] = (),
        headers: tuple[str, ...] = (),
        label: str = "",
    ) -> WrkResult:
        argv = [
            self.binary, "-t", str(self.threads), "-c", str(self.connections),
            "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
            "-s", str(self.script(script)),
        ]  # fmt: skip
        for header in headers:
            argv += ["-H", header]
        argv.append(url)
        if args:
            argv += ["--", *args]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
        (self.workdir / f"wrk-{label or script}.txt").write_text(done.stdout + done.stderr)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        errors, latency = data["errors"], data["latency_us"]
        return WrkResult(
            requests=int(data["requests"]),
            seconds=data["duration_us"] / 1e6,
            p50_ms=latency["p50"] / 1000,
            p90_ms=latency["p90"] / 1000,
            p99_ms=latency["p99"] / 1000,
            max_ms=latency["max"] / 1000,
            socket_errors=int(errors["connect"] + errors["read"] + errors["write"]),
            status_errors=int(errors["status"]),
            timeouts=int(errors["timeout"]),
            statuses={int(k): int(v) for k, v in data["statuses"].items()},
            sent=int(data["sent"]),
            bytes=int(data["bytes"]),
        )


# --- One HTTP request -----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    started: float
    seconds: float


def request(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request on a new connection, redirects not followed."""
    parts = urllib.parse.urlsplit(base_url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return Answer(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=data,
            started=started,
            seconds=time.monotonic() - started,
        )
    finally:
        conn.close()


def response_bytes(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """(status, bytes on the wire) of one GET: what wrk counts as read for
    that answer.  The server closes the connection after it (sync workers)."""
    parts = urllib.parse.urlsplit(base_url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, len(data)


def sign_body(email: str, n: int) -> bytes:
    return urllib.parse.urlencode(
        {
            "name": f"Pipeline Signer {n}",
            "email": email,
            "job_title": "Engineer",
            "team": "Engineering",
            "location": "Berlin",
            "display": "public" if n % 4 else "anonymous",
            "consent": "on",
            "website": "",
        }
    ).encode()


# --- The confirmation pipeline -----------------------------------------------------------


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
            answer = request(
                base_url,
                "POST",
                sign_path,
                body=sign_body(email, n),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": base_url,
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


# --- The export -----------------------------------------------------------------------


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


def timed(command: Callable[[], object]) -> float:
    started = time.monotonic()
    command()
    return time.monotonic() - started


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
