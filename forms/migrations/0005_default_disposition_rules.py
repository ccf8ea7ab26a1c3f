"""NC-8: the default signatures per disposition code (the Quality manager signs every
disposition; these are the further ones). Edited afterwards in the admin."""
from django.db import migrations

DEFAULTS = [
    # code, further signers (department:role), customer's acceptance where the contract requires it, re-inspection
    ("concession", ["management:manager"], True, False),
    ("rework", [], False, True),
    ("repair", [], False, True),
    ("regrade", [], False, False),
    ("scrap", [], False, False),
    ("return_to_supplier", ["materials:staff"], False, False),
]


def forwards(apps, schema_editor):
    DispositionRule = apps.get_model("forms", "DispositionRule")
    for code, signers, acceptance, reinspection in DEFAULTS:
        DispositionRule.objects.get_or_create(code=code, defaults={
            "signers": signers, "customer_acceptance": acceptance, "reinspection": reinspection})


class Migration(migrations.Migration):
    dependencies = [("forms", "0004_complaints_and_returns")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
