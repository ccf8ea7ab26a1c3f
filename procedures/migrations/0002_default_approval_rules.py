"""The default approval matrix (DOC-4); the Quality manager edits it afterwards."""
from django.db import migrations

DEFAULTS = [
    # document type, reviewing departments, approver's department, approver's role
    ("procedure", ["quality", "market", "production"], "management", "manager"),
    ("work_instruction", ["quality", "production"], "quality", "manager"),
    ("form", ["quality"], "quality", "manager"),
    ("external", ["quality", "engineering"], "quality", "manager"),
]


def forwards(apps, schema_editor):
    ApprovalRule = apps.get_model("procedures", "ApprovalRule")
    for doc_type, reviewers, department, role in DEFAULTS:
        ApprovalRule.objects.get_or_create(document_type=doc_type, defaults={
            "reviewing_departments": reviewers, "approver_department": department, "approver_role": role})


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
