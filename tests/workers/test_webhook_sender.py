"""The webhook sender against a real receiver: a refused POST is retried with the same signed data and
the next attempt number, and a URL that keeps failing hands over to the failover URL (spec webhooks.md
§3–§5). In-process: the real loops, a temp SQLite file, an aiohttp receiver."""

from __future__ import annotations

from workers_support import Hit, World, eventually, receiving


def _data_bytes(hit: Hit) -> bytes:
    """The body up to `meta`: the part that must be byte-identical on every attempt."""
    return hit.body[: hit.body.rindex(b',"meta":')]


async def test_a_500_is_retried_after_a_second_with_the_same_data(world: World) -> None:
    async with receiving(lambda path, n: 500 if n == 0 else 200) as hooks:
        msg = await world.send(to="+13125550123", text="retry me", webhook_url=hooks.url("/flaky"))
        tries = await eventually(
            lambda: (found := hooks.events(msg["id"], "message.sent")) and len(found) >= 2 and found,
            message="message.sent was not retried",
        )
        first, second = tries[:2]
        assert [world.verify(t)["meta"]["attempt"] for t in (first, second)] == [1, 2]
        assert _data_bytes(first) == _data_bytes(second)
        assert first.headers["telnyx-signature-ed25519"] != second.headers["telnyx-signature-ed25519"]
        assert second.at - first.at >= 0.9  # Telnyx's first backoff is 1 s
        finalized = await eventually(lambda: hooks.events(msg["id"], "message.finalized"))
        assert world.verify(finalized[0])["meta"]["attempt"] == 1  # the receiver answers 200 by now


async def test_three_failures_fail_over_to_the_failover_url(world: World) -> None:
    async with receiving(lambda path, n: 503 if path == "/primary" else 200) as hooks:
        msg = await world.send(
            to="+13125550123",
            text="primary is down",
            webhook_url=hooks.url("/primary"),
            webhook_failover_url=hooks.url("/failover"),
        )
        tries = await eventually(
            lambda: (found := hooks.events(msg["id"], "message.sent")) and len(found) >= 4 and found,
            timeout=20,
            message="message.sent never reached the failover URL",
        )
        assert [t.path for t in tries] == ["/primary"] * 3 + ["/failover"]
        assert [world.verify(t)["meta"]["attempt"] for t in tries] == [1, 2, 3, 4]
        assert world.verify(tries[-1])["meta"]["delivered_to"] == hooks.url("/failover")
