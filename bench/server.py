"""gunicorn for the bench: start it on a free loopback port, wait until it answers, measure
its memory, stop it (the whole process group it leads, and nothing else)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def worker_count() -> int:
    """2 x cores + 1 (gunicorn's advice), kept within 4..6 for the bench's 8 clients."""
    return max(4, min(6, 2 * (os.cpu_count() or 1) + 1))


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    workers: int
    log: Path

    @property
    def command(self) -> str:
        return " ".join(self.process.args)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # gunicorn leads its own session (start_new_session): TERM its group, the master
        # and the workers we started, nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def rss_kib(self) -> dict[int, int]:
        """VmRSS of the master and each worker, by pid (from /proc)."""
        pids = [self.process.pid, *children(self.process.pid)]
        return {pid: rss for pid in pids if (rss := vm_rss_kib(pid)) is not None}

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)


def start(env: dict[str, str], workers: int, log: Path) -> Server:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "annotator.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--timeout=60",
        f"--error-logfile={log}",
        "--log-level=warning",
    ]
    process = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, port, workers, log)
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited ({server.process.returncode}):\n{_tail(server.log)}"
            )
        workers_up = len(server.worker_pids()) >= server.workers
        try:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ok = False
        if ok and workers_up:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{_tail(server.log)}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the fields follow the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def vm_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
