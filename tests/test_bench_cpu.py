"""bench.cpu: what a measured run cost, from two /proc snapshots."""

from __future__ import annotations

from bench.cpu import TICK, Snapshot, usage


def snapshot(wall: float, workers: dict[int, int]) -> Snapshot:
    procs = {100: ("gunicorn", 1, 5 * TICK)}  # the master: its CPU does not move
    procs |= {pid: ("gunicorn", 100, jiffies) for pid, jiffies in workers.items()}
    return Snapshot(wall=wall, busy=0, steal=0, procs=procs, children=0.0, own=0.0)


def test_the_busiest_workers_share_shows_a_run_that_sat_on_one_worker():
    before = snapshot(0.0, {101: 0, 102: 0})
    lopsided = usage(
        before, snapshot(10.0, {101: 9 * TICK, 102: 1 * TICK}), server_pid=100, requests=1000
    )
    assert lopsided["busiest_worker_share"] == 0.9
    assert lopsided["app_ms_per_req"] == 10.0  # 10 s of CPU over 1,000 requests
    even = usage(before, snapshot(10.0, {101: 5 * TICK, 102: 5 * TICK}), server_pid=100, requests=1)
    assert even["busiest_worker_share"] == 0.5
    idle = usage(before, snapshot(10.0, {101: 0, 102: 0}), server_pid=100, requests=1)
    assert idle["busiest_worker_share"] == 0.0
