"""WHERE clauses shared by the list queries that take a `domain.filters` object."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from heliograph.domain.filters import TimeRange


def time_range(column: Any, bounds: TimeRange) -> list[ColumnElement[bool]]:
    """`column >= gte` and `column <= lte`, for the ends that are set."""
    clauses = []
    if bounds.gte is not None:
        clauses.append(column >= bounds.gte)
    if bounds.lte is not None:
        clauses.append(column <= bounds.lte)
    return clauses
