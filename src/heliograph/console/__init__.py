"""The web console ("Mailpit for SMS"): server-rendered pages over services, htmx for live updates."""
