"""A procedure document names the flow it governs by the flow class's name
("OrderReviewFlow"), no longer by its module path, which moved when each procedure got
its own app ("workflows.order_review.OrderReviewFlow")."""
from django.db import migrations


def by_class_name(apps, schema_editor):
    Document = apps.get_model("procedures", "Document")
    for document in Document.objects.exclude(governs_flow="").filter(governs_flow__contains="."):
        document.governs_flow = document.governs_flow.rsplit(".", 1)[1]
        document.save(update_fields=["governs_flow"])


class Migration(migrations.Migration):

    dependencies = [("procedures", "0006_documentchangeprocess")]

    operations = [migrations.RunPython(by_class_name, migrations.RunPython.noop)]
