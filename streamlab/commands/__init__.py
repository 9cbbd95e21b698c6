"""One thin module per command; each exposes `command` (a click command). `cli.py` registers them."""
