"""Where the CPU went during a measurement: gunicorn's workers, the bench database's
PostgreSQL backends, the bench itself, and everything else on the machine.

Latency on a shared 2-core machine says as much about the neighbours as about the app; CPU
time per request does not, so the report shows both. Backends come and go (CONN_MAX_AGE
recycles them), so a thread samples /proc twice a second and keeps each process's last
reading.
"""

from __future__ import annotations

import os
import threading
import timeit
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> tuple[int, int, int] | None:
    """(ppid, start time, utime + stime) of a process, or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields 3 onwards follow the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12])


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which user time already counts
    return total - idle, total


@dataclass
class Usage:
    app_s: float  # gunicorn workers
    db_s: float  # PostgreSQL backends serving the bench database
    bench_s: float  # this process and its finished children (the client processes)
    busy_s: float  # the whole machine
    wall_s: float  # CPUs x elapsed

    @property
    def others_share(self) -> float:
        """The share of the machine that processes outside the bench used."""
        outside = self.busy_s - self.app_s - self.db_s - self.bench_s
        return max(0.0, outside) / self.wall_s if self.wall_s else 0.0


class CpuMeter:
    def __init__(self, master_pid: int, database: str, interval: float = 0.5):
        self.master_pid = master_pid
        self.interval = interval
        self.database = database
        # Keyed by (pid, start time): pids are reused quickly on a busy machine.
        self._last: dict[tuple[int, int], tuple[str, int]] = {}  # -> (kind, ticks)
        self._ignored: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuMeter:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _kind(self, pid: int, ppid: int) -> str | None:
        if ppid == self.master_pid:
            return "app"
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        # PostgreSQL backends retitle themselves "postgres: ... user database host(port) state".
        if title.startswith("postgres: ") and f" {self.database} " in title:
            return "db"
        return None

    def sample(self) -> None:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        with self._lock:
            for pid in pids:
                reading = _cpu_ticks(pid)
                if reading is None:
                    continue
                ppid, started, ticks = reading
                key = (pid, started)
                if key in self._ignored:
                    continue
                known = self._last.get(key)
                kind = known[0] if known else self._kind(pid, ppid)
                if kind is None:
                    self._ignored.add(key)
                    continue
                self._last[key] = (kind, ticks)

    def snapshot(self) -> tuple[dict, tuple[int, int], float]:
        self.sample()
        times = os.times()
        bench = times.user + times.system + times.children_user + times.children_system
        with self._lock:
            return dict(self._last), _machine_ticks(), bench

    def usage(self, before, after, elapsed: float) -> Usage:
        last_before, machine_before, bench_before = before
        last_after, machine_after, bench_after = after
        spent = {"app": 0, "db": 0}
        for key, (kind, ticks) in last_after.items():
            spent[kind] += ticks - last_before.get(key, (kind, 0))[1]
        return Usage(
            app_s=spent["app"] / TICK,
            db_s=spent["db"] / TICK,
            bench_s=bench_after - bench_before,
            busy_s=(machine_after[0] - machine_before[0]) / TICK,
            wall_s=(os.cpu_count() or 1) * elapsed,
        )


def python_speed() -> float:
    """Microseconds for sum(range(1000)), best of 5: how fast this machine runs Python now."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
