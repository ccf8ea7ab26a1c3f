"""The registry's customer, product and lot filters at a plant's size (issue 15): each is a case-insensitive
substring of its column (core.search: Django's icontains, `UPPER(column::text) LIKE UPPER('%…%')`), which no btree
serves — at a million records a customer's name took 0.53 s (a scan of the table). On PostgreSQL a trigram GIN index
on each upper-cased column serves the LIKE, and gives the planner statistics on the expression, so that a name found
in a few records is read through the index and one found in half the registry by a scan that stops at its page
(a customer 525 → 11 ms, a broad one 372 → 22 ms). The product filter also looks in the search text of a record whose
products did not all fit their column (core.search.CUT_MARK): a partial index on those records lets PostgreSQL OR
the two. Built without blocking writes (CONCURRENTLY). SQLite: nothing (its search stays the plain substring scan).
Words of one or two Chinese characters have no trigram: those filters still scan, as before.

The planner needs to know how often a text occurs in each column to choose between the two: an index's expression
gives it no such statistics for a GIN index (it guessed 320 records for a product in 296,000, read them all through
the index and sorted them, 1.1 s), so each expression gets its own (CREATE STATISTICS, PostgreSQL 14 and later), and
its estimate is then the records' own (297,148)."""
from django.db import migrations

from core.migration_ops import indexes_built_concurrently

# core.search.CUT_MARK when this was written: how a cut products column ends
CUT_MARK = ", …"

INDEXES = {
    "record_customer_trgm": "ON core_record USING gin (upper(customer_name::text) gin_trgm_ops)",
    "record_product_trgm": "ON core_record USING gin (upper(product_text::text) gin_trgm_ops)",
    "record_lot_trgm": "ON core_record USING gin (upper(lot_text::text) gin_trgm_ops)",
    "record_products_cut": f"ON core_record (id) WHERE product_text LIKE '%%{CUT_MARK}'",
}


STATISTICS = {
    "record_customer_upper": "upper(customer_name::text)",
    "record_product_upper": "upper(product_text::text)",
    "record_lot_upper": "upper(lot_text::text)",
}


def extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # core 0008 made it; a restore may not have
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    if schema_editor.connection.pg_version >= 140000:  # statistics on an expression
        for name, expression in STATISTICS.items():
            schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM core_record")
    schema_editor.execute("ANALYZE core_record")  # the statistics the planner chooses by, now rather than later


def no_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in STATISTICS:
            schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("core", "0010_registry_sort_indexes")]
    operations = [migrations.RunPython(extension, migrations.RunPython.noop),
                  indexes_built_concurrently(INDEXES, postgresql_only=True),
                  migrations.RunPython(statistics, no_statistics)]
