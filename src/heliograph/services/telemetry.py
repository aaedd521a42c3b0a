"""Prometheus metrics for operators (`GET /metrics`): counters and histograms per process, gauges from the database.

Counters and histograms use prometheus-client's multiprocess mode: every process of one host (the API
processes, the sandbox's worker process, gateway `worker`s) writes its own memory-mapped file into one shared
directory, and a scrape of any API process sums them all. Queue depth and connector state are facts about
the whole deployment, so a scrape reads them from the database instead: every process and host reports the
same figure (aggregate them with max, not sum).

Recording stays off the send path's per-request work: the group committer reports each committed batch,
`services.metrics.record` each batch of transitions, the webhook sender each flushed batch of attempts.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from heliograph.domain.rows import Row
from heliograph.services import connectors
from heliograph.services.context import Context
from heliograph.store import gauges

logger = logging.getLogger(__name__)


FINAL = {"delivered", "delivery_failed", "sending_failed", "delivery_unconfirmed", "expired"}
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 6 * 3600.0, 86400.0)
_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _Metrics:
    """The metric objects of this process, built once `configure` has chosen how values are stored."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.messages = Counter(
            "heliograph_messages", "Messages reaching each status.", ("direction", "status"), registry=None
        )
        self.webhook_attempts = Counter(
            "heliograph_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), failed (given up).",
            ("outcome",),
            registry=None,
        )
        self.http_requests = Counter(
            "heliograph_http_requests", "HTTP requests answered.", ("method", "route", "status"), registry=None
        )
        self.http_duration = Histogram(
            "heliograph_http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of its body).",
            ("method", "route"),
            buckets=HTTP_BUCKETS,
            registry=None,
        )
        self.write_batch = Histogram(
            "heliograph_write_batch_rows",
            "Messages (or webhook attempts) per write transaction, by writer: the API's group commit, the "
            "dispatcher, receipts, webhook outcomes. Small batches under load mean more commits per message.",
            ("writer",),
            buckets=BATCH_BUCKETS,
            registry=None,
        )
        self.delivery = Histogram(
            "heliograph_message_delivery_seconds",
            "Outbound messages: from acceptance to their final status.",
            ("status",),
            buckets=DELIVERY_BUCKETS,
            registry=None,
        )


_metrics: _Metrics | None = None
_enabled = True
_directory: Path | None = None


def configure(directory: Path | None, *, enabled: bool = True, fresh: bool = False) -> None:
    """Choose, once per process and before any metric is recorded, where values live.

    With a directory, values are shared with the other processes of the host through it; `fresh` empties it
    first (only the process that starts the others may do that: their files would vanish mid-count).
    """
    global _metrics, _enabled, _directory
    _enabled = enabled
    if not enabled:
        return
    if directory is not None:
        if fresh and directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        os.environ[_ENV] = str(directory)  # children inherit it; prometheus-client reads it when writing
        from prometheus_client import values

        values.ValueClass = values.MultiProcessValue()
        _directory = directory
    _metrics = None


def enabled() -> bool:
    return _enabled


def _get() -> _Metrics | None:
    global _metrics
    if not _enabled:
        return None
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics


def record_accepted(rows: Iterable[Row]) -> None:
    """Messages just committed by the API (queued or scheduled), one call per group commit."""
    m = _get()
    if m is None:
        return
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    for status, n in counts.items():
        m.messages.labels("outbound", status).inc(n)


def record_transitions(pairs: Iterable[tuple[Row, Row]], inbound_rows: Iterable[Row] = ()) -> None:
    """Statuses reached by a batch of messages (the `after` rows), and how long the final ones took."""
    m = _get()
    if m is None:
        return
    counts: dict[tuple[str, str], int] = {}
    for _, after in pairs:
        status = after["status"]
        key = (after.get("direction") or "outbound", status)
        counts[key] = counts.get(key, 0) + 1
        done, accepted = after.get("completed_at"), after.get("received_at")
        if status in FINAL and done is not None and accepted is not None:
            m.delivery.labels(status).observe(max(done - accepted, 0) / 1_000_000)
    for _ in inbound_rows:  # stored as delivered (to us); operators know it as received
        key = ("inbound", "received")
        counts[key] = counts.get(key, 0) + 1
    for (direction, status), n in counts.items():
        m.messages.labels(direction, status).inc(n)


def record_cancelled(n: int = 1) -> None:
    m = _get()
    if m is not None:
        m.messages.labels("outbound", "cancelled").inc(n)


def record_webhook_outcomes(outcomes: Iterable[Row]) -> None:
    """One batch of recorded webhook attempts (services.webhooks.outcome rows)."""
    m = _get()
    if m is None:
        return
    counts: dict[str, int] = {}
    for outcome in outcomes:
        name = "retry" if outcome["status"] == "pending" else outcome["status"]
        counts[name] = counts.get(name, 0) + 1
    for name, n in counts.items():
        m.webhook_attempts.labels(name).inc(n)


def record_write_batch(writer: str, rows: int) -> None:
    """One committed write transaction of `rows` messages (or webhook attempts)."""
    m = _get()
    if m is not None and rows:
        m.write_batch.labels(writer).observe(rows)


class HttpRecorder:
    """Label children bound once per (method, route, status), so a request costs two dictionary lookups
    and two increments."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            m = _get()
            if m is None:
                return
            children = (m.http_requests.labels(method, route, str(status)), m.http_duration.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


async def exposition(ctx: Context) -> bytes:
    """The text a scrape gets: this host's counters (all its processes) and the deployment's gauges."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    _get()  # so an idle process still shows its metrics (at zero in single-process mode)
    async with ctx.db.read() as conn:
        depth = await gauges.queue_depth(conn)
    links = await connectors.list_connectors(ctx)

    class Gauges:
        def collect(self):
            queue = GaugeMetricFamily(
                "heliograph_queue_depth",
                "Work waiting, read from the database: queued and sending messages, scheduled ones, webhooks owed.",
                labels=("queue",),
            )
            for name, value in depth.items():
                queue.add_metric((name,), value)
            yield queue
            up = GaugeMetricFamily(
                "heliograph_connector_up",
                "1 when a running worker holds the connector's link up.",
                labels=("connector",),
            )
            for link in links:
                up.add_metric((link["name"],), 1.0 if link["state"] == "up" else 0.0)
            yield up

    registry = CollectorRegistry(auto_describe=False)
    if _directory is not None:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=str(_directory))
    elif _metrics is not None:
        for metric in vars(_metrics).values():
            registry.register(metric)
    registry.register(Gauges())
    return generate_latest(registry)
