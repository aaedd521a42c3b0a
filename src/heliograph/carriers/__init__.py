"""Carrier links: the interface services speak, and its implementations (simulator, SMPP)."""
