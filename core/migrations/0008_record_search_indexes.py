"""Registry search at a plant's size (issue 15): on PostgreSQL, pg_trgm, the free-text expression of
core.search (columns joined, upper-cased, every character doubled, so that two-character Chinese
words have trigrams) kept in a stored generated column `search_haystack` (PostgreSQL computes it on
every write; the model does not know it, so Django never writes it) under a GIN trigram index — a
trigram match is rechecked row by row, and reading a stored column is what keeps a search matching
thousands of records fast — and upper(number) for the exact number filter.
pg_trgm is a trusted extension: the database owner (qms_owner, docs/sql/roles.sql) may create it.
SQLite: nothing (its search stays the plain substring scan)."""
from django.db import migrations

# core.search.haystack_sql() when this was written (tests/test_registry_search.py checks they agree)
HAYSTACK = "regexp_replace(upper(number || E'\\x1f' || title || E'\\x1f' || search_text || E'\\x1f' || customer_name || E'\\x1f' || product_text || E'\\x1f' || lot_text), '(.)', '\\1\\1', 'g')"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"ALTER TABLE core_record ADD COLUMN IF NOT EXISTS search_haystack text "
                          f"GENERATED ALWAYS AS ({HAYSTACK}) STORED")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS core_record_search_trgm ON core_record "
                          "USING gin (search_haystack gin_trgm_ops)")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS core_record_number_upper ON core_record (upper(number))")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS core_record_search_trgm")
    schema_editor.execute("ALTER TABLE core_record DROP COLUMN IF EXISTS search_haystack")
    schema_editor.execute("DROP INDEX IF EXISTS core_record_number_upper")


class Migration(migrations.Migration):
    dependencies = [("core", "0007_tombstone_accountabilityacceptance")]
    operations = [migrations.RunPython(forwards, backwards)]
