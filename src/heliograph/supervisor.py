"""`serve --processes N` and `worker --processes N`: one parent runs N copies of a command and owns their lives.

API children each bind the port with SO_REUSEPORT, so the kernel spreads connections across them (no
process hands sockets around). The parent forwards SIGTERM/SIGINT and waits for the children to finish
their graceful shutdown; each child dies with the parent (PR_SET_PDEATHSIG), so even a parent killed with
SIGKILL leaves no process behind. A child that dies is restarted; one that keeps dying at start (e.g. the
port is taken by something else) stops the whole group instead of looping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from heliograph.services.context import ForwardingEvent, Wakeups
from heliograph.workers.process import DISPATCH, RECEIPTS, WEBHOOKS, _die_with_parent

logger = logging.getLogger(__name__)

EARLY_EXIT_SECONDS = 5.0  # a child that exits this soon after starting failed to start
EARLY_EXITS_TO_GIVE_UP = 3


class Children:
    """N child processes, `command(index)` each; restarted when they die, stopped together."""

    def __init__(
        self, name: str, count: int, command: Callable[[int], list[str]], pass_fds: Sequence[int] = ()
    ) -> None:
        self._name = name
        self._command = command
        self._pass_fds = tuple(pass_fds)
        self._procs: list[subprocess.Popen | None] = [None] * count
        self._stopping = False
        self._tasks: list[asyncio.Task] = []
        self.failed = asyncio.Event()  # set when a child cannot start: the caller stops everything

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p is not None]

    def start(self) -> None:
        for index in range(len(self._procs)):
            self._tasks.append(asyncio.create_task(self._keep(index), name=f"{self._name}-{index}"))

    def _spawn(self, index: int) -> subprocess.Popen:
        proc = subprocess.Popen(  # preexec only sets the parent-death signal
            self._command(index), pass_fds=self._pass_fds, preexec_fn=_die_with_parent
        )
        logger.info(f"{self._name} process started", extra={"action": "child_spawn", "pid": proc.pid, "index": index})
        return proc

    async def _keep(self, index: int) -> None:
        early_exits = 0
        while not self._stopping:
            started = time.monotonic()
            proc = self._procs[index] = self._spawn(index)
            code = await asyncio.to_thread(proc.wait)
            if self._stopping:
                return
            early_exits = early_exits + 1 if time.monotonic() - started < EARLY_EXIT_SECONDS else 0
            if early_exits >= EARLY_EXITS_TO_GIVE_UP:
                logger.error(
                    f"{self._name} process keeps failing at start; stopping",
                    extra={"action": "child_exit", "code": code, "index": index},
                )
                self.failed.set()
                return
            logger.error(
                f"{self._name} process exited; restarting it",
                extra={"action": "child_exit", "code": code, "index": index},
            )
            await asyncio.sleep(1)

    async def stop(self, timeout: float = 30) -> None:
        """SIGTERM to every child (each shuts down gracefully), then wait; SIGKILL what is left after `timeout`."""
        self._stopping = True
        live = [p for p in self._procs if p is not None and p.poll() is None]
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in live:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def until_signalled(*events: asyncio.Event) -> None:
    """Wait for SIGTERM or SIGINT (or any of `events`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waits = [asyncio.create_task(e.wait()) for e in (stop, *events)]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()


def child_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "heliograph", *args]


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening address several processes can bind at once; the kernel balances new connections."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.set_inheritable(False)
    return sock


def wakeups_to(fd: int) -> Wakeups:
    """In a sandbox API child: nudges written to the pipe of the worker process the parent runs."""
    os.set_blocking(fd, False)

    def nudge(kind: bytes) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):  # a full pipe already holds a nudge
            os.write(fd, kind)

    return Wakeups(
        dispatcher=ForwardingEvent(lambda: nudge(DISPATCH)),
        webhooks=ForwardingEvent(lambda: nudge(WEBHOOKS)),
        receipts=ForwardingEvent(lambda: nudge(RECEIPTS)),
    )
