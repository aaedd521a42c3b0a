"""Use cases: each one reads, decides with `domain`, and commits once."""
