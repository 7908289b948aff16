"""The CPU cost of sealed signer data (letters/sealing.py): what each sign
pays to seal its signer's address (and to hash it), and what each email pays
to open it, measured in the runner with the run's own keys while the stack is
idle (after seeding, before the site starts).  The same functions the site
calls (`seal`, `unseal`, `signer_hash`, with their cached key objects), CPU
time (`time.process_time`) per call, the median of a few batches.

The runner sets these against the CPU per sign (gunicorn, where sealing
runs) and per email (the Celery worker, where opening runs) that the sign
and burst measurements found (`shares`).  Reported, never asserted."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from letters.sealing import seal, signer_hash, unseal

# As long as the addresses the benchmark signs with (sealing cost does not
# depend on it much: one HPKE encapsulation, then AES-GCM over a few bytes).
ADDRESS = "s0102030405ab12-1-123456@bench.example"


def _cpu_us_per_call(operation: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        operation()
    return (time.process_time() - started) * 1e6 / calls


def measure_sealing(
    keys: Mapping[str, str], *, batches: int = 5, per_batch: int = 200
) -> dict[str, Any]:
    """µs of CPU per `seal`, `unseal` (open) and `signer_hash` (hash) call,
    each the median of `batches` batches of `per_batch` calls."""
    public, hash_key = keys["SIGNER_SEAL_PUBLIC_KEY"], keys["SIGNER_HASH_KEY"]
    privates = [key for key in keys["SIGNER_SEAL_PRIVATE_KEYS"].split(",") if key]
    sealed = seal(ADDRESS, public)
    assert unseal(sealed, privates) == ADDRESS
    operations: dict[str, Callable[[], object]] = {
        "seal_us": lambda: seal(ADDRESS, public),
        "open_us": lambda: unseal(sealed, privates),
        "hash_us": lambda: signer_hash(ADDRESS, hash_key),
    }
    results: dict[str, Any] = {}
    for key, operation in operations.items():
        operation()  # the key objects are made (and cached) on first use, as in the site
        runs = [_cpu_us_per_call(operation, per_batch) for _ in range(batches)]
        results[key] = round(statistics.median(runs), 1)
    results["calls"] = batches * per_batch
    results["sealed_bytes"] = len(sealed)
    return results


def shares(
    sealing: Mapping[str, Any], sign: Mapping[str, Any], burst: Mapping[str, Any]
) -> dict[str, float | None]:
    """What sealing and opening are of the CPU the stack spent: sealing (and
    hashing) of gunicorn's and of the machine's CPU per sign; opening of the
    Celery worker's CPU per email.  None where a figure is missing."""

    def share(us: float, ms: float | None) -> float | None:
        return round(us / (ms * 1000), 4) if ms else None

    per_sign = sign.get("cpu_ms_per_sign") or {}
    per_email = burst.get("cpu_ms_per_email") or {}
    sign_us = sealing["seal_us"] + sealing["hash_us"]
    return {
        "seal_of_gunicorn_per_sign": share(sealing["seal_us"], per_sign.get("gunicorn")),
        "seal_and_hash_of_machine_per_sign": share(sign_us, per_sign.get("machine")),
        "open_of_worker_per_email": share(sealing["open_us"], per_email.get("celery-worker")),
    }
