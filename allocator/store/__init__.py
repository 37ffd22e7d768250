"""The round history store: published rounds, their plans and each family's running balance.

A real database (SQLite file ``allocator.db`` by default, PostgreSQL or any SQLAlchemy URL via
``--db`` or ``$ALLOCATOR_DB``), its schema made and changed only by the Alembic revisions in
``migrations/``. See `allocator.store.db` for the transaction and balance rules.

Example
-------
>>> store = open_store("sqlite:///allocator.db")            # doctest: +SKIP
>>> version = store.publish(inp, bookings, who="kari", why="half-year round")  # doctest: +SKIP
>>> store.balances()["B0002"]["weekend"]                    # doctest: +SKIP
-1.2
"""

from allocator.store.db import (
    DEFAULT_URL,
    ENV_VAR,
    AuditLine,
    FamilyBalance,
    NoStoreError,
    RoundChildInfo,
    Store,
    StoreError,
    VersionInfo,
    alembic_config,
    families_owed_first,
    input_fingerprint,
    open_store,
    resolve_url,
)

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "AuditLine",
    "FamilyBalance",
    "NoStoreError",
    "RoundChildInfo",
    "Store",
    "StoreError",
    "VersionInfo",
    "alembic_config",
    "families_owed_first",
    "input_fingerprint",
    "open_store",
    "resolve_url",
]
