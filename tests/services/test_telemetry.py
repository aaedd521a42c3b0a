"""Prometheus counters kept from batches, and the dashboard and docs naming only metrics that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from heliograph.services import telemetry

DOCS = Path(__file__).resolve().parents[2] / "docs"
GAUGES = {"heliograph_queue_depth", "heliograph_connector_up"}


@pytest.fixture
def fresh() -> None:
    telemetry.configure(None)  # in memory, new counters
    yield
    telemetry.configure(None)


async def _scrape(ctx) -> dict:
    text = (await telemetry.exposition(ctx)).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


async def test_batches_become_counters_and_final_statuses_durations(world, fresh) -> None:
    telemetry.record_accepted([{"status": "queued"}, {"status": "queued"}, {"status": "scheduled"}])
    second = 1_000_000
    telemetry.record_transitions(
        [
            (
                {"status": "sending"},
                {"direction": "outbound", "status": "sent", "received_at": 0, "completed_at": None},
            ),
            (
                {"status": "sent"},
                {"direction": "outbound", "status": "delivered", "received_at": 0, "completed_at": 3 * second},
            ),
        ],
        [{"status": "delivered", "direction": "inbound"}],
    )
    telemetry.record_webhook_outcomes([{"status": "delivered"}, {"status": "pending"}, {"status": "failed"}])
    s = await _scrape(world.ctx)
    assert s[("heliograph_messages_total", frozenset({("direction", "outbound"), ("status", "queued")}))] == 2
    assert s[("heliograph_messages_total", frozenset({("direction", "outbound"), ("status", "scheduled")}))] == 1
    assert s[("heliograph_messages_total", frozenset({("direction", "outbound"), ("status", "sent")}))] == 1
    assert s[("heliograph_messages_total", frozenset({("direction", "inbound"), ("status", "received")}))] == 1
    assert s[("heliograph_message_delivery_seconds_sum", frozenset({("status", "delivered")}))] == 3.0
    assert ("heliograph_message_delivery_seconds_count", frozenset({("status", "sent")})) not in s  # not final
    for outcome in ("delivered", "retry", "failed"):
        assert s[("heliograph_webhook_attempts_total", frozenset({("outcome", outcome)}))] == 1
    assert s[("heliograph_queue_depth", frozenset({("queue", "queued")}))] == 0


def test_disabled_records_nothing(fresh) -> None:
    telemetry.configure(None, enabled=False)
    telemetry.record_accepted([{"status": "queued"}])
    telemetry.HttpRecorder().observe("GET", "/healthz", 200, 0.001)
    assert not telemetry.enabled()


def _exposed_names() -> set[str]:
    metrics = telemetry._Metrics()
    return {m._name for m in vars(metrics).values()} | GAUGES


def _named(text: str) -> set[str]:
    names = set(re.findall(r"heliograph_[a-z_]+", text))
    return {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in names}


def test_the_dashboard_imports_and_names_only_exposed_metrics() -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    assert _named(exprs) <= _exposed_names()
    assert {"heliograph_messages", "heliograph_connector_up", "heliograph_queue_depth"} <= _named(exprs)


def test_the_operations_guide_names_only_exposed_metrics() -> None:
    assert _named((DOCS / "operations.md").read_text()) <= _exposed_names()


async def test_the_group_committer_counts_only_the_sends_it_wrote(world, fresh) -> None:
    from heliograph.domain.errors import MessagingRejected
    from heliograph.services.committer import GroupCommitter, WriteIntent
    from heliograph.store.tables import messages

    written = WriteIntent(rows=[(messages, {"status": "queued"})])
    written.done.set_result(None)
    refused = WriteIntent(rows=[(messages, {"status": "queued"})])  # e.g. its sender's queue was full (40318)
    refused.done.set_exception(MessagingRejected("Message queue is full.", code="40318"))
    GroupCommitter(world.ctx.db)._after_commit([written, refused])
    s = await _scrape(world.ctx)
    assert s[("heliograph_messages_total", frozenset({("direction", "outbound"), ("status", "queued")}))] == 1
