"""Where the CPU went during a measured run (Linux /proc), so a busy machine shows.

On a small machine shared with other work, req/s moves with whatever else
runs. The driver takes a snapshot before and after each measured run and
reports, per run:

- ``app_ms_per_req``: CPU of the gunicorn master and workers per request (the
  figure that does not depend on how busy the machine is);
- ``services_ms_per_req``: CPU of the database and cache servers (mariadbd /
  mysqld, redis-server) per request — they may serve other clients too;
- ``load_cores``: CPU of the load generator (wrk, a waited-for child of the
  driver) in cores;
- ``other_cores``: every other busy CPU in cores (other programs on the
  machine; the kernel's share of network I/O lands here too);
- ``steal_cores``: time the hypervisor gave to other guests;
- ``busiest_worker_share``: the busiest gunicorn worker's part of the
  workers' CPU (0.5 with two workers evenly loaded, 1.0 when one served all).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
SERVICES = {"mariadbd", "mysqld", "redis-server"}


@dataclass
class Snapshot:
    wall: float
    busy: int  # jiffies, all CPUs, excluding idle, iowait and steal
    steal: int
    procs: dict[int, tuple[str, int, int]]  # pid -> (comm, ppid, utime+stime jiffies)
    children: float  # seconds of CPU of the driver's waited-for children
    own: float  # seconds of CPU of the driver itself


def _proc_table() -> dict[int, tuple[str, int, int]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ... utime stime ..." — comm may hold spaces.
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry.name)] = (comm, int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def snapshot() -> Snapshot:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return Snapshot(
        wall=time.monotonic(),
        busy=user + nice + system + irq + softirq,
        steal=steal,
        procs=_proc_table(),
        children=children.ru_utime + children.ru_stime,
        own=own.ru_utime + own.ru_stime,
    )


def _tree(procs: dict[int, tuple[str, int, int]], root: int) -> set[int]:
    members = {root}
    changed = True
    while changed:
        changed = False
        for pid, (_comm, ppid, _cpu) in procs.items():
            if ppid in members and pid not in members:
                members.add(pid)
                changed = True
    return members


def usage(before: Snapshot, after: Snapshot, *, server_pid: int, requests: int) -> dict:
    wall = max(after.wall - before.wall, 1e-6)

    def delta(pids: set[int]) -> float:
        total = 0
        for pid in pids:
            if pid in after.procs:
                start = before.procs.get(pid, (None, None, 0))[2]
                total += after.procs[pid][2] - start
        return total / TICK

    app_pids = _tree(after.procs, server_pid) | (_tree(before.procs, server_pid) & set(after.procs))
    service_pids = {pid for pid, (comm, _p, _c) in after.procs.items() if comm in SERVICES}
    app = delta(app_pids)
    # How evenly the workers shared the run: the busiest worker's part of the
    # workers' CPU. wrk's few keep-alive connections are each accepted by one
    # worker for the whole run, so a run may land on one worker (share near
    # 1.0 with 2 workers) and be capped at one core.
    workers = [delta({pid}) for pid in app_pids if pid != server_pid]
    busiest = max(workers) / sum(workers) if workers and sum(workers) > 0 else 0.0
    services = delta(service_pids)
    load = after.children - before.children
    own = after.own - before.own
    busy = (after.busy - before.busy) / TICK
    other = max(0.0, busy - app - services - load - own)
    per_req = 1000 / requests if requests else 0.0
    return {
        "app_ms_per_req": round(app * per_req, 3),
        "services_ms_per_req": round(services * per_req, 3),
        "app_cores": round(app / wall, 3),
        "busiest_worker_share": round(busiest, 3),
        "services_cores": round(services / wall, 3),
        "load_cores": round(load / wall, 3),
        "other_cores": round(other / wall, 3),
        "steal_cores": round((after.steal - before.steal) / TICK / wall, 3),
    }


def busy_cores(window: float = 2.0) -> float:
    """Busy CPU of the whole machine over ``window`` seconds, in cores."""
    first = snapshot_busy()
    time.sleep(window)
    return (snapshot_busy() - first) / TICK / window


def snapshot_busy() -> int:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = (values + [0] * 7)[:7]
    return user + nice + system + irq + softirq


def wait_quiet(limit: float, threshold: float, log) -> float:
    """Wait up to ``limit`` seconds for a 2-second window in which the machine is
    almost idle (busy < ``threshold`` cores). Returns the last busy figure."""
    deadline = time.monotonic() + limit
    busy = busy_cores()
    announced = False
    while busy >= threshold and time.monotonic() < deadline:
        if not announced:
            log(f"    waiting for the machine to calm down (busy: {busy:.2f} cores)…")
            announced = True
        time.sleep(3)
        busy = busy_cores()
    return busy
