"""Read-only checks of what a stream backend wrote to its database, on any SQLAlchemy URL."""

from ome_harness.dbcheck.checker import DbChecker, DbCheckFailed, DbUnavailable, read_only_engine
from ome_harness.dbcheck.mapping import DEFAULT_MAP, TableMap

__all__ = ["DEFAULT_MAP", "DbCheckFailed", "DbChecker", "DbUnavailable", "TableMap", "read_only_engine"]
