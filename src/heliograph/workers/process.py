"""The sandbox's second process: `heliograph serve` answers HTTP in one process and runs the workers
(dispatch, receipts, webhooks) in a child, so the two use both cores instead of sharing one
(`serve --workers N`: N children share the work).

The parent nudges the child through a pipe ("d": messages to dispatch, "w": webhooks to deliver) so work
starts at once rather than at the next poll. The child dies with the parent (PR_SET_PDEATHSIG): a killed
server leaves no orphan holding leases, and the next start recovers everything from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from heliograph.services.context import ForwardingEvent, Wakeups

logger = logging.getLogger(__name__)

DISPATCH = b"d"
WEBHOOKS = b"w"
RECEIPTS = b"r"


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends SIGKILL when the parent goes."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class WorkerProcess:
    """The sandbox's worker children (one by default). Several read the same pipe: a nudge wakes whichever
    reads it first, and the work it announces is claimed under leases, so an idle one takes what a busy one
    leaves. Each child is restarted on its own when it exits."""

    def __init__(self, data_dir: Path, count: int = 1) -> None:
        self._data_dir = data_dir
        self._count = count
        self._procs: list[subprocess.Popen | None] = [None] * count
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._stopping = False
        self._monitors: list[asyncio.Task] = []

    @property
    def write_fd(self) -> int:
        """The pipe's end that nudges the children (`serve --processes N` hands it to its API processes)."""
        return self._write_fd

    def wakeups(self) -> Wakeups:
        """Events for the API process whose set() reaches the children's loops."""
        return Wakeups(
            dispatcher=ForwardingEvent(lambda: self._nudge(DISPATCH)),
            webhooks=ForwardingEvent(lambda: self._nudge(WEBHOOKS)),
            receipts=ForwardingEvent(lambda: self._nudge(RECEIPTS)),
        )

    def _nudge(self, kind: bytes) -> None:
        # a full pipe already holds a nudge for the children; they poll anyway
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._write_fd, kind)

    def start(self) -> None:
        for index in range(self._count):
            self._spawn(index)
            self._monitors.append(asyncio.create_task(self._watch(index), name=f"worker-process-{index}"))

    def _spawn(self, index: int) -> None:
        command = [sys.executable, "-m", "heliograph", "worker", "--data-dir", str(self._data_dir)]
        command += ["--wake-fd", str(self._read_fd)]
        if self._count > 1:  # the others' leases are live: only `serve` releases a previous run's (cli.py)
            command.append("--shared")
        proc = subprocess.Popen(command, pass_fds=(self._read_fd,), preexec_fn=_die_with_parent)
        self._procs[index] = proc
        logger.info("worker process started", extra={"action": "worker_spawn", "pid": proc.pid, "index": index})

    async def _watch(self, index: int) -> None:
        while not self._stopping:
            proc = self._procs[index]
            assert proc is not None
            code = await asyncio.to_thread(proc.wait)
            if self._stopping:
                return
            logger.error(
                "worker process exited; restarting it", extra={"action": "worker_exit", "code": code, "index": index}
            )
            await asyncio.sleep(1)
            if not self._stopping:
                self._spawn(index)

    async def stop(self, timeout: float = 30) -> None:
        """Ask the children to finish their work and exit; kill those that do not."""
        self._stopping = True
        running = [p for p in self._procs if p is not None and p.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)

        async def ended(proc: subprocess.Popen) -> None:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), timeout)
            except TimeoutError:
                proc.kill()

        await asyncio.gather(*(ended(p) for p in running))
        for task in self._monitors:
            task.cancel()
        for task in self._monitors:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for fd in (self._read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def listen_for_nudges(fd: int, wakeups: Wakeups) -> None:
    """In the child: set the local events when the parent nudges."""
    loop = asyncio.get_running_loop()

    def on_readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        if not data:  # the parent is gone; PDEATHSIG ends us shortly
            loop.remove_reader(fd)
            return
        if DISPATCH in data:
            wakeups.dispatcher.set()
        if WEBHOOKS in data:
            wakeups.webhooks.set()
        if RECEIPTS in data:
            wakeups.receipts.set()

    os.set_blocking(fd, False)
    loop.add_reader(fd, on_readable)
