"""What /proc says about processes: the children of a process, its memory,
and the CPU time of process groups, PostgreSQL and the machine (for the
benchmark's export and sign measurements)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def proc_stats() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, command name, the fields after it) of every process, from
    /proc/<pid>/stat: fields[1] is the parent pid, fields[2] the process
    group, fields[11] and fields[12] user and system ticks."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        close = stat.rfind(")")
        yield int(entry.name), stat[stat.find("(") + 1 : close], stat[close + 2 :].split()


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), from /proc."""
    return sorted(child for child, _comm, fields in proc_stats() if int(fields[1]) == pid)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in kB."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def _machine_busy_s() -> float:
    """CPU seconds spent on anything but idle and iowait, all cores."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def _serves(pid: int, database: str) -> bool:
    """Whether a PostgreSQL process is a backend connected to `database`
    (its title, in /proc/<pid>/cmdline: `postgres: user database host ...`)."""
    try:
        title = (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return False
    return f" {database} " in title


def cpu_seconds(groups: Mapping[str, int], *, database: str = "") -> dict[str, float]:
    """CPU seconds used so far by each named process group (`Proc.pid` is its
    group id), by the PostgreSQL server processes (with `database`: only the
    backends connected to it, the server being shared with other work on
    the machine), by this process (the runner, and the SMTP sink in its
    threads), by its waited-for children (wrk), and by the whole machine.
    Processes that have exited are not counted (PostgreSQL backends of
    pooled connections live on)."""
    by_group = dict.fromkeys(groups.values(), 0)
    postgres = 0
    for pid, comm, fields in proc_stats():
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        group = int(fields[2])
        if group in by_group:
            by_group[group] += ticks
        elif comm.startswith("postgres") and (not database or _serves(pid, database)):
            postgres += ticks
    own = os.times()
    seconds = {name: by_group[pgid] / _TICK for name, pgid in groups.items()}
    seconds["postgres"] = postgres / _TICK
    seconds["runner"] = own.user + own.system
    seconds["children"] = own.children_user + own.children_system
    seconds["machine"] = _machine_busy_s()
    return seconds
