"""Persistence: SQLAlchemy Core tables, migrations, and one small function per query."""
