"""`Row`: one record as `store/` reads and writes it, column name to value.

Rows leave the store for services, views and the console. Whatever travels with a row besides its
columns (a lease it was claimed under, a deadline) goes next to it in a small dataclass, never
inside it under a private key.
"""

from __future__ import annotations

from typing import Any, TypeAlias

Row: TypeAlias = dict[str, Any]
