"""Background loops: they run inside `heliograph serve`, or alone as `heliograph worker`."""
