"""bench.cpu: what a measured run cost, from two /proc snapshots."""

from __future__ import annotations

import argparse

from bench.cpu import TICK, Snapshot, usage
from bench.run import Bench, Result


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


def result(rps: float, cpu_ms: float, busiest: float) -> Result:
    return Result(
        requests=1000, seconds=5.0, rps=rps, p50_ms=1.0, p90_ms=1.0, p99_ms=1.0, max_ms=1.0,
        errors=0, non200=0, socket_errors={}, exhausted=False, first_bad="",
        cpu={"app_ms_per_req": cpu_ms, "busiest_worker_share": busiest},
    )  # fmt: skip


def a_round(healthz_rps: float, healthz_busiest: float = 0.5) -> dict[str, Result]:
    return {
        "bare": result(3000, 0.6, 0.5),
        "healthz": result(healthz_rps, 0.8, healthz_busiest),
        "me": result(900, 1.6, 0.55),
        "refresh": result(600, 2.0, 0.6),
    }


def test_the_verdicts_leave_out_rounds_in_which_a_run_sat_on_one_worker():
    bench = Bench(argparse.Namespace(users=1000, seed=1, workers=2, ratio_seconds=5))
    bench.ratio_runs = [
        a_round(2400),
        a_round(900, healthz_busiest=1.0),  # every connection on one worker
        a_round(2700),
        a_round(1000, healthz_busiest=0.9),
    ]
    assert [bench.lopsided(r["healthz"]) for r in bench.ratio_runs] == [False, True, False, True]
    assert bench.verdict_rounds() == [bench.ratio_runs[0], bench.ratio_runs[2]]
    assert bench.adjacent("healthz_bare") == (0.8 + 0.9) / 2
    # All four rounds, for the table's second median row.
    assert bench.adjacent("healthz_bare", bench.ratio_runs) == (1000 / 3000 + 0.8) / 2
    table = bench.ratio_table()
    assert "| 2 (on one worker: healthz) |" in table
    assert "median of the 2 rounds on both workers" in table
    # When every round sat on one worker, all of them count.
    bench.ratio_runs = bench.ratio_runs[1::2]
    assert bench.verdict_rounds() == bench.ratio_runs


def test_with_one_worker_no_run_is_lopsided():
    bench = Bench(argparse.Namespace(users=1000, seed=1, workers=1))
    assert not bench.lopsided(result(2000, 0.8, 1.0))
