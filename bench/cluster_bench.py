"""The cluster phase of `make bench`: the same measurements as the
single-node stack's, through the multi-node topology (bench.cluster): HAProxy
round robin over two gunicorn nodes, PgBouncer in transaction mode in front
of a private primary, a streaming replica for public reads, two Celery
worker nodes and one beat, a private Redis, the SMTP sink.

In the same run as the single-node figures (after them, the single-node site
stopped), on the same cores, with the same total of processes as nearly as
two nodes allow: each node has half the single node's gunicorn workers
(rounded up), each worker node half its Celery processes (at least one).
Everything shares the same two cores, so what the proxies and the second
copy of everything cost is what shows.

- seeding: bench/seed.py's COPY of the big letter (no coalition letter)
  straight into the primary, then waiting for the replica to replay it;
- `letter_page`, `api_letter`: wrk GETs through HAProxy (bench/lua/get.lua);
- `sign`: wrk sign POSTs through HAProxy (bench/lua/sign.lua), rows stored
  against 302s, the confirmation emails drained, as bench.sign does;
- `mixed`: the mixed load (bench.mixed) through HAProxy.

Each row's `cpu_ms_per_request` (`cpu_ms_per_sign`) splits the CPU by part:
both nodes' gunicorn, HAProxy, PgBouncer, the primary and the replica (every
process of each server), both Celery worker nodes, beat, Redis, the runner
and its SMTP sink, wrk, the machine.

Clients: wrk's X-Forwarded-For stands for the client address an outer proxy
(a CDN) would add, HAProxy appends its peer's: the nodes run with
TRUSTED_PROXY_COUNT=2 here, so each sign is rate limited as its own client,
as on the single node.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.commands import run_python
from bench.mixed import Target, measure_mixed
from bench.procfs import cpu_seconds, proc_stats
from bench.report import log
from bench.sign import drain_emails
from bench.wrk import Wrk

HAPROXY = Path("/usr/sbin/haproxy")
PGBOUNCER = Path("/usr/sbin/pgbouncer")


def missing() -> str:
    """What the cluster needs and this machine lacks ("" if nothing)."""
    lacking = [
        name
        for name, path in (("haproxy", HAPROXY), ("pgbouncer", PGBOUNCER))
        if not (path.exists() or shutil.which(name))
    ]
    return ", ".join(lacking)


def _postmaster(data: Path) -> int:
    """A PostgreSQL server's postmaster pid (0 if it is not running)."""
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class ClusterSite:
    """The running cluster as the measurements see it (what bench.stack.Stack
    offers them): its address, its rows, its emails, its CPU by part."""

    cluster: Any  # bench.cluster.Cluster
    workdir: Path

    @property
    def base_url(self) -> str:
        return str(self.cluster.url)

    def _value(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with psycopg.connect(self.cluster.primary_url, autocommit=True, connect_timeout=5) as c:
            row = c.execute(sql.encode(), params).fetchone()
        return int(row[0] or 0) if row else 0

    def last_signature_id(self) -> int:
        return self._value("SELECT coalesce(max(id), 0) FROM letters_signature")

    def signatures_after(self, after_id: int) -> int:
        return self._value("SELECT count(*) FROM letters_signature WHERE id > %s", (after_id,))

    def owed_emails(self, after_id: int) -> int:
        return self._value(
            "SELECT count(*) FROM letters_signature WHERE id > %s "
            "AND emails_sent < emails_requested AND NOT email_failed "
            "AND status IN ('pending', 'confirmed')",
            (after_id,),
        )

    def wait_for_emails(
        self, prefix: str, expected: int, timeout: float
    ) -> list[tuple[float, str]]:
        deadline = time.monotonic() + timeout
        while True:
            found: list[tuple[float, str]] = self.cluster.sink.matching(prefix)
            if len({a for _t, a in found}) >= expected or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)

    def drop_owed_emails(self, after_id: int) -> int:
        """As bench.stack.Stack's: the emails still owed given up, the queue emptied."""
        with psycopg.connect(self.cluster.primary_url, autocommit=True, connect_timeout=5) as c:
            dropped = c.execute(
                "UPDATE letters_signature SET email_failed = true WHERE id > %s "
                "AND emails_sent < emails_requested AND NOT email_failed",
                (after_id,),
            ).rowcount
        client = redis.Redis.from_url(self.cluster.redis.url)
        try:
            keys = list(client.scan_iter(match=f"{self.cluster.queue}*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
        return int(dropped)

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far by part: process groups by role (`gunicorn`:
        every node), `haproxy`, `pgbouncer`, `redis`, and every process of
        the primary (`postgres`) and of the replica (`replica`); then the
        runner, wrk (`children`) and the machine, as bench.procfs counts
        them."""
        role = {"node": "gunicorn", "worker": "celery-worker", "beat": "celery-beat"}
        groups: dict[int, str] = {}
        for proc in self.cluster.processes:
            if proc.alive():
                groups[proc.pid] = next(
                    (r for prefix, r in role.items() if proc.name.startswith(prefix)), proc.name
                )
        for name in ("redis", "haproxy", "pgbouncer"):
            proc = getattr(getattr(self.cluster, name, None), "proc", None)
            if proc is not None and proc.alive():
                groups[proc.pid] = name
        servers = {
            pid: name
            for name, server in (
                ("postgres", self.cluster.primary),
                ("replica", self.cluster.replica),
            )
            if server is not None and (pid := _postmaster(server.data))
        }
        ticks = dict.fromkeys([*groups.values(), *servers.values()], 0)
        for pid, _comm, fields in proc_stats():
            used = int(fields[11]) + int(fields[12])
            if int(fields[2]) in groups:
                ticks[groups[int(fields[2])]] += used
            elif pid in servers:
                ticks[servers[pid]] += used
            elif int(fields[1]) in servers:
                ticks[servers[int(fields[1])]] += used
        tick = os.sysconf("SC_CLK_TCK")
        seconds = {name: n / tick for name, n in ticks.items()}
        own = cpu_seconds({})
        return seconds | {key: own[key] for key in ("runner", "children", "machine")}

    def mixed_target(self, slug: str, drain_timeout: float = 30.0) -> Target:
        before = self.last_signature_id()

        def settle() -> None:
            deadline = time.monotonic() + drain_timeout
            while self.owed_emails(before) and time.monotonic() < deadline:
                time.sleep(0.5)

        return Target(
            base_url=self.base_url,
            slug=slug,
            sink=self.cluster.sink,
            workdir=self.workdir,
            settle=settle,
            rows_after=lambda: self.signatures_after(before),
            cpu=self.cpu,
        )


def per_answer(
    before: dict[str, float], after: dict[str, float], answered: int
) -> dict[str, float]:
    return {
        key: round((after[key] - before.get(key, 0.0)) * 1000 / max(1, answered), 3)
        for key in after
    }


def measure_get(
    site: ClusterSite, wrk: Wrk, args: argparse.Namespace, path: str, label: str
) -> dict[str, Any]:
    """Plain GETs through HAProxy after a warm-up, as bench.reads does."""
    url = site.base_url + path
    wrk.run(url, script="get", seconds=args.warmup, label=f"{label}-warmup")
    before = site.cpu()
    result = wrk.run(url, script="get", seconds=args.duration, label=label)
    return result.as_dict() | {
        "cpu_ms_per_request": per_answer(before, site.cpu(), result.requests)
    }


def measure_sign(
    site: ClusterSite, wrk: Wrk, args: argparse.Namespace, slug: str, run_id: str
) -> dict[str, Any]:
    """Sign POSTs through HAProxy, as bench.sign does: rows against 302s,
    CPU per sign answered, the confirmation emails drained."""
    prefix = f"k{run_id}"
    before_id = site.last_signature_id()
    before = site.cpu()
    result = wrk.run(
        f"{site.base_url}/letters/{slug}/sign/",
        script="sign",
        seconds=args.duration,
        args=(prefix, site.base_url, ""),
        label="cluster-sign",
    )
    after = site.cpu()
    ended = time.monotonic()
    backlog = site.owed_emails(before_id)
    accepted = result.statuses.get(302, 0)
    answered = sum(result.statuses.values())
    unanswered = max(0, result.sent - answered)
    time.sleep(1)
    rows = site.signatures_after(before_id)
    log(f"cluster sign: {result.rps:.0f}/s, {rows} rows; {backlog} emails still owed")
    emails = drain_emails(
        site,  # type: ignore[arg-type]  # what drain_emails uses of a Stack
        f"{prefix}-",
        before_id,
        rows,
        backlog,
        ended,
        args.drain_timeout,
    )
    return result.as_dict() | {
        "accepted": accepted,
        "rows_stored": rows,
        "unanswered_at_stop": unanswered,
        "rows_match_accepted": accepted <= rows <= accepted + unanswered,
        "other_statuses": {str(k): v for k, v in sorted(result.statuses.items()) if k != 302},
        "cpu_ms_per_sign": per_answer(before, after, answered),
        "emails": emails,
    }


def seed(site: ClusterSite, count: int, slug: str) -> dict[str, Any]:
    """bench/seed.py straight into the primary (no PgBouncer), then until
    the replica has replayed it."""
    import json

    started = time.monotonic()
    out = run_python(
        ["-m", "bench.seed", "--count", str(count), "--slug", slug, "--coalition-count", "0"],
        env=site.cluster.env(direct=True),
        timeout=3600,
        what="seeding the cluster",
        log_path=site.workdir / "cluster-seed.log",
    )
    info: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    info["seconds"] = round(time.monotonic() - started, 1)
    deadline = time.monotonic() + 600
    while not site.cluster.replica.caught_up("undersigned"):
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not catch up with the seeding in 600 s")
        time.sleep(0.5)
    info["replica_caught_up_s"] = round(time.monotonic() - started - info["seconds"], 1)
    return info


@dataclass
class SingleNode:
    """The single-node site's letter page and sign measurements, for
    measuring beside the cluster's: each called with a label (whose first
    letter makes the sign's addresses unique in the run)."""

    sign: Callable[[str], dict[str, Any]]
    page: Callable[[str], dict[str, Any]] | None = None  # None: the sign only


def cluster_options(args: argparse.Namespace) -> Any:
    from bench.cluster import ClusterOptions

    return ClusterOptions(
        nodes=2,
        web_workers=max(1, math.ceil(args.workers / 2)),
        worker_nodes=2,
        worker_concurrency=max(1, args.celery_concurrency // 2),
        access_log=args.access_log,
        # wrk's X-Forwarded-For is the client's, HAProxy appends its peer's
        env={"TRUSTED_PROXY_COUNT": "2"},
    )


def measure_cluster(
    args: argparse.Namespace,
    wrk: Wrk,
    *,
    run_id: str,
    slug: str,
    mixed_rates: list[float],
    mixed_seconds: float,
    single: SingleNode | None = None,
) -> dict[str, Any]:
    """Start the cluster, seed it, measure; stopped at the end (its logs
    copied into the run's directory).  With `single` (the single-node site,
    still running, idle), the cluster's letter page and sign are each
    measured between two of the single node's (before and after, in
    `single_node`): on a machine shared with other work, figures measured
    minutes apart do not compare, figures measured side by side do."""
    from bench.cluster import Cluster

    options = cluster_options(args)
    started = time.monotonic()
    cluster = Cluster(options)
    try:
        cluster.start()
        start_s = round(time.monotonic() - started, 1)
        site = ClusterSite(cluster, wrk.workdir)
        log(f"cluster up in {start_s} s; seeding {args.signatures:,} signatures")
        info = seed(site, args.signatures, slug)
        log(
            f"cluster seeded in {info['seconds']} s, the replica caught up "
            f"{info['replica_caught_up_s']} s later"
        )
        results: dict[str, Any] = {}
        log("cluster: letter page, API")
        bracket: dict[str, Any] = {}
        if single and single.page:
            bracket["letter_page_before"] = single.page("x-single-page-before")
        results["letter_page"] = measure_get(site, wrk, args, f"/letters/{slug}/", "cluster-page")
        if single and single.page:
            bracket["letter_page_after"] = single.page("y-single-page-after")
        results["api_letter"] = measure_get(site, wrk, args, f"/api/letters/{slug}/", "cluster-api")
        log("cluster: sign")
        if single:
            bracket["sign_before"] = single.sign("x-single-sign-before")
        results["sign"] = measure_sign(site, wrk, args, slug, run_id)
        if single:
            bracket["sign_after"] = single.sign("y-single-sign-after")
            results["single_node"] = bracket
        if mixed_rates:
            log("cluster: mixed load")
            results["mixed"] = measure_mixed(
                wrk.binary,
                site.mixed_target(slug),
                run_id=run_id,
                rates=mixed_rates,
                seconds=mixed_seconds,
                links=args.mixed_links,
                warmup=args.mixed_warmup,
                label="cluster-mixed",
            )
        results["topology"] = {
            "web_nodes": options.nodes,
            "gunicorn_workers_per_node": options.web_workers,
            "worker_nodes": options.worker_nodes,
            "celery_processes_per_worker_node": options.worker_concurrency,
            "beats": 1,
            "pgbouncer": "transaction mode",
            "replica": "streaming (pg_basebackup)",
            "start_seconds": start_s,
            "seed_seconds": info["seconds"],
            "replica_caught_up_s": info["replica_caught_up_s"],
            "public_signatures": info["public_signatures"],
        }
        return results
    finally:
        logs = wrk.workdir / "cluster"
        logs.mkdir(exist_ok=True)
        for path in Path(cluster.workdir).glob("*.log"):
            shutil.copy(path, logs / path.name)
        problems = cluster.close()
        if problems:
            log("cluster cleanup problems: " + "; ".join(problems))


def vs_single(cluster: dict[str, Any], single: dict[str, Any]) -> dict[str, Any]:
    """The cluster's figures over the single node's of the same run:
    requests (signs) per second, and the mixed load's highest rate held."""
    ratios: dict[str, Any] = {
        key: round(cluster[key]["rps"] / (single[key]["rps"] or 1.0), 3)
        for key in ("letter_page", "api_letter", "sign")
        if key in cluster and key in single
    }
    # Side by side: over the mean of the single node's measured just before
    # and just after (what the targets are read on).
    bracket = cluster.get("single_node") or {}
    for key in ("letter_page", "sign"):
        around = [bracket.get(f"{key}_before"), bracket.get(f"{key}_after")]
        rates = [row["rps"] for row in around if row]
        if rates and key in cluster:
            mean = sum(rates) / len(rates)
            ratios[f"{key}_side_by_side"] = round(cluster[key]["rps"] / mean, 3)
    held = (cluster.get("mixed") or {}).get("holds_at"), (single.get("mixed") or {}).get("holds_at")
    if held[0] and held[1]:
        ratios["mixed_holds_at"] = round(held[0] / held[1], 3)
    # The machine's CPU per sign and per page, the cluster's over the single node's.
    for key, cpu in (("sign", "cpu_ms_per_sign"), ("letter_page", "cpu_ms_per_request")):
        mine = (cluster.get(key) or {}).get(cpu, {}).get("machine")
        theirs = (single.get(key) or {}).get(cpu, {}).get("machine")
        if mine and theirs:
            ratios[f"{key}_machine_cpu"] = round(mine / theirs, 3)
    return ratios


def main(argv: list[str] | None = None) -> int:
    """The cluster phase alone (`python -m bench.cluster_bench [--quick]`,
    any option of `python -m bench`): prints its notes and JSON."""
    import json
    from datetime import UTC, datetime

    from bench.report import _cluster_notes
    from bench.run import BIG_SLUG, new_run_dir, parse_args
    from bench.wrk import ensure_wrk

    args = parse_args(argv)
    if missing():
        log(f"no {missing()}")
        return 1
    run_id = datetime.now(UTC).strftime("%m%d%H%M%S") + "cl"
    workdir = new_run_dir(run_id)
    wrk = Wrk(ensure_wrk(), workdir, threads=args.threads, connections=args.connections)
    results = measure_cluster(
        args,
        wrk,
        run_id=run_id,
        slug=BIG_SLUG,
        mixed_rates=[] if args.no_mixed else args.mixed_rates,
        mixed_seconds=args.mixed_seconds,
    )
    (workdir / "cluster.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(_cluster_notes(results)))
    log(f"wrote {workdir / 'cluster.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
