"""The commands the benchmark and the fault tests run: the site's own
processes (gunicorn, a Celery worker, Celery beat), and one-off Python
commands in the project (`manage.py`, `bench.seed`, `bench.burst`).  How
they run (their own process groups, logs, stopping) is `bench/processes.py`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.processes import BASE_DIR


def gunicorn_argv(app: str, port: int, workers: int, *options: str) -> list[str]:
    """gunicorn serving `app` on 127.0.0.1:`port` with `workers` sync workers."""
    return [
        sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), *options,
    ]  # fmt: skip


def celery_argv(command: str, *options: str) -> list[str]:
    """`celery -A config <command>` (worker, beat) logging at INFO."""
    return [sys.executable, "-m", "celery", "-A", "config", command, "--loglevel", "INFO", *options]


def run_python(
    args: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float,
    what: str,
    log_path: Path | None = None,
) -> str:
    """`python <args>` in the project directory, to the end; its stdout.
    Both outputs go to `log_path` if given; if it fails, RuntimeError names
    `what` with the end of its output."""
    argv = [sys.executable, *args]
    done = subprocess.run(
        argv, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if log_path is not None:
        log_path.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout
