"""Where a served assistant keeps its team state: files in the index folder (``users.json``,
``audit.jsonl``) and counters in memory, or, when ``store.catalog_url`` names a PostgreSQL database,
tables there shared by every app node (``team_pg``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vectorstore.catalogs import require_psycopg

from .accounts import Accounts, accounts_path
from .audit import AuditLog, audit_path
from .limits import Limits


@dataclass
class Team:
    """The accounts, the audit log and a maker of rate limits (``limits(per_minute, at_once, kind)``)."""

    accounts: Any  # Accounts | team_pg.PgAccounts
    audit: Any  # AuditLog | team_pg.PgAuditLog
    state: Any = None  # the team_pg.TeamState holding their connections, if any

    def limits(self, per_minute: int, at_once: int, kind: str = "questions"):
        if self.state is None:
            return Limits(per_minute, at_once)
        return self.state.limits(per_minute, at_once, kind)

    def close(self) -> None:
        if self.state is not None:
            self.state.close()


def open_team(settings) -> Team:
    """The team state ``settings`` describe (PostgreSQL when ``store.catalog_url`` is set)."""
    url = settings.store.catalog_url
    if not url:
        return Team(Accounts(accounts_path(settings)), AuditLog(audit_path(settings)))
    require_psycopg("store.catalog_url")
    from .team_pg import TeamState

    state = TeamState(url, pool_size=settings.store.catalog_pool_size)
    return Team(state.accounts, state.audit, state)
