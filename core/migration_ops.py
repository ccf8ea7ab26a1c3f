"""Data operations for migrations that move models or flows from one app to another
(the one-app-per-procedure reorganisation). Kept stable: migrations import them.

- `move_content_types(old_app, new_app, models)`: the moved models' content types change app
  in place, so every row that points at them (a process's artifact, permissions) still does.
- `move_flow_references(renames)`: viewflow stores each process's flow and each task's node as
  "app_label/module.Class[.node]"; a flow that moved module is renamed in those rows.
- `indexes_built_concurrently(indexes)`: indexes built on PostgreSQL without blocking writes (issue 15's indexes on
  tables that are in use: the migration says `atomic = False`)."""
from django.db import migrations


def move_content_types(old_app, new_app, models):
    def forward(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not ContentType.objects.filter(app_label=new_app, model=model).exists():
                ContentType.objects.filter(app_label=old_app, model=model).update(app_label=new_app)

    def backward(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not ContentType.objects.filter(app_label=old_app, model=model).exists():
                ContentType.objects.filter(app_label=new_app, model=model).update(app_label=old_app)

    return migrations.RunPython(forward, backward)


def _rename(schema_editor, renames):
    with schema_editor.connection.cursor() as cursor:
        for old, new in renames.items():
            cursor.execute("UPDATE viewflow_process SET flow_class = %s WHERE flow_class = %s", [new, old])
            cursor.execute("UPDATE viewflow_task SET flow_task = %s || substr(flow_task, %s) "
                           "WHERE substr(flow_task, 1, %s) = %s", [new + ".", len(old) + 2, len(old) + 1, old + "."])


def move_flow_references(renames):
    """`renames`: {"old_app/old.module.Flow": "new_app/new.module.Flow"}."""
    return migrations.RunPython(lambda apps, editor: _rename(editor, renames),
                                lambda apps, editor: _rename(editor, {new: old for old, new in renames.items()}))


def indexes_built_concurrently(indexes, *, postgresql_only=False):
    """`indexes`: {name: "ON table [USING method] (…) [WHERE …]"}. On PostgreSQL each is dropped first (what a build
    that failed half-way left) and built CONCURRENTLY, which cannot run in a transaction: the migration sets
    `atomic = False`. Elsewhere a plain CREATE INDEX, or nothing when `postgresql_only` (an index SQLite cannot
    hold). Reversed by dropping them."""
    def keyword(editor):
        if editor.connection.vendor == "postgresql":
            return "CONCURRENTLY "
        return None if postgresql_only else ""

    def forward(apps, schema_editor):
        concurrently = keyword(schema_editor)
        if concurrently is None:
            return
        for name, definition in indexes.items():
            schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")
            schema_editor.execute(f"CREATE INDEX {concurrently}{name} {definition}")

    def backward(apps, schema_editor):
        concurrently = keyword(schema_editor)
        if concurrently is None:
            return
        for name in indexes:
            schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")

    return migrations.RunPython(forward, backward)
