"""wrk, the load generator for throughput (with the Lua scripts in
bench/lua, `common.lua` prepended to each): installed from Debian if
missing, run for a number of seconds, its figures read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
