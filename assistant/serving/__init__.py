"""Serving the assistant to people: the web UI (``ui/``) and what sharing it with a team needs,
accounts, limits, the audit log and the server paths an editor may ingest from."""
