"""Starting and stopping every background loop (workers/runner.py through `Heliograph.start`/`stop`):
a stop in the middle of the work loses nothing, and a restart on the same data finishes it, webhooks
included (DESIGN: nothing accepted is lost). In-process: a temp SQLite file, an aiohttp receiver."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workers_support import Receiver, eventually, running

TERMINAL = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed"}


async def test_stop_and_restart_loses_no_message_and_no_webhook(tmp_path: Path, receiver: Receiver) -> None:
    async with running(tmp_path, simulator_dlr_delay_ms=300) as world:
        ids = [(await world.send(to=f"+1312555{i:04d}", text="x", webhook_url=receiver.url()))["id"] for i in range(20)]
        started = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - started < 10  # stopping is prompt: no loop hangs on
    async with running(tmp_path) as again:

        async def all_final() -> bool:
            return all([(await again.status(i)) in TERMINAL for i in ids])

        await eventually(all_final, timeout=30, message="a message accepted before the stop never finished")
        for message_id in ids:
            assert await again.status(message_id) == "delivered"

        def owed_arrived() -> bool:
            return all(receiver.events(i, "message.finalized") for i in ids)

        await eventually(owed_arrived, timeout=30, message="a webhook owed before the stop never arrived")
        for message_id in ids:
            for hit in receiver.events(message_id):
                again.verify(hit)
