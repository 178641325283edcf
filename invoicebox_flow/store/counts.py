"""How many orders are in each state, without counting the orders.

``order_state_counts`` holds, per state, how many orders are in it; triggers on ``orders`` keep
it in the transaction that inserts, moves or deletes an order, so the count commits with the
change or not at all — whoever writes the row: the store, a migration, a bulk load with raw SQL.
:meth:`Store.counts <invoicebox_flow.store.Store.counts>` then sums a few dozen rows, however
many orders there are (a ``GROUP BY`` over ``orders`` reads every one of them: 146 ms at a
million orders).

* SQLite runs one writer at a time, so one row per state is enough.
* PostgreSQL writers run at once, and a row that every payment updates would make them queue on
  its lock until each commits. Each state is therefore spread over ``SHARDS`` rows; a change
  picks one at random and adds -1 to the old state's row and +1 to the new one's — in the order
  of the states' names, so that two changes never wait for each other's rows the other way round
  (a deadlock). A shard's number can go below zero; the sum per state is exact.

Version 3 of the schema adds the table and the triggers; its migration fills the table from one
count of the orders, after the triggers exist and in the same transaction (PostgreSQL's
``CREATE TRIGGER`` holds off other writers until it commits).
"""

from __future__ import annotations

from sqlalchemy import func, literal, select
from sqlalchemy.engine import Connection

from .schema import order_state_counts, orders

SHARDS = 16

_SQLITE_UPSERT = ("INSERT INTO order_state_counts (state, shard, orders) VALUES ({state}, 0, {delta}) "
                  "ON CONFLICT (state, shard) DO UPDATE SET orders = orders + excluded.orders;")
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS orders_count_insert AFTER INSERT ON orders BEGIN "
    + _SQLITE_UPSERT.format(state="NEW.state", delta=1) + " END",
    "CREATE TRIGGER IF NOT EXISTS orders_count_delete AFTER DELETE ON orders BEGIN "
    + _SQLITE_UPSERT.format(state="OLD.state", delta=-1) + " END",
    "CREATE TRIGGER IF NOT EXISTS orders_count_update AFTER UPDATE OF state ON orders "
    "WHEN NEW.state IS NOT OLD.state BEGIN "
    + _SQLITE_UPSERT.format(state="OLD.state", delta=-1) + " "
    + _SQLITE_UPSERT.format(state="NEW.state", delta=1) + " END",
)

# ``SET search_path FROM CURRENT``: the function finds the table of the schema it was created
# in, whatever the writing session's search path.
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION invoicebox_flow_count_orders() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    pick integer := floor(random() * {SHARDS})::integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_state_counts AS c (state, shard, orders) VALUES (NEW.state, pick, 1)
            ON CONFLICT (state, shard) DO UPDATE SET orders = c.orders + 1;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO order_state_counts AS c (state, shard, orders) VALUES (OLD.state, pick, -1)
            ON CONFLICT (state, shard) DO UPDATE SET orders = c.orders - 1;
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        -- both rows in one statement, in the order of the states' names: no deadlock
        INSERT INTO order_state_counts AS c (state, shard, orders)
            SELECT s, pick, d FROM (VALUES (OLD.state, -1), (NEW.state, 1)) AS moves (s, d) ORDER BY s
            ON CONFLICT (state, shard) DO UPDATE SET orders = c.orders + excluded.orders;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = ("CREATE TRIGGER orders_count AFTER INSERT OR DELETE OR UPDATE OF state ON orders "
               "FOR EACH ROW EXECUTE FUNCTION invoicebox_flow_count_orders()")

# the states that have orders, and how many: a read of the counter rows only
COUNTS = (select(order_state_counts.c.state, func.sum(order_state_counts.c.orders).label("orders"))
          .group_by(order_state_counts.c.state)
          .having(func.sum(order_state_counts.c.orders) > 0))


def install(conn: Connection, *, is_postgres: bool) -> None:
    """Create the triggers that keep ``order_state_counts`` (the table exists already)."""
    if is_postgres:
        conn.exec_driver_sql(_PG_FUNCTION)
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS orders_count ON orders")
        conn.exec_driver_sql(_PG_TRIGGER)
    else:
        for statement in _SQLITE_TRIGGERS:
            conn.exec_driver_sql(statement)


def recount(conn: Connection) -> None:
    """Fill ``order_state_counts`` from the orders themselves (the migration's one scan)."""
    conn.execute(order_state_counts.delete())
    conn.execute(order_state_counts.insert().from_select(
        ["state", "shard", "orders"],
        select(orders.c.state, literal(0), func.count()).group_by(orders.c.state)))
