"""The default approval matrix (DOC-4); the Quality manager edits it afterwards."""
from django.db import migrations

# The defaults are entered by procedures.defaults.seed_default_approval_rules on post_migrate (a new database,
# and again after a test flush), so that they have one definition. This migration used to
# enter them itself; it is kept, doing nothing, because databases have it applied.
forwards = migrations.RunPython.noop


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
