"""NC-8: the default signatures per disposition code (the Quality manager signs every
disposition; these are the further ones). Edited afterwards in the admin."""
from django.db import migrations

# The defaults are entered by forms.defaults.seed_default_disposition_rules on post_migrate (a new database,
# and again after a test flush), so that they have one definition. This migration used to
# enter them itself; it is kept, doing nothing, because databases have it applied.
forwards = migrations.RunPython.noop


class Migration(migrations.Migration):
    dependencies = [("forms", "0004_complaints_and_returns")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
