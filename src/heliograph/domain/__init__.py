"""Pure logic: no I/O, no clock, no database. Values in, values out."""
