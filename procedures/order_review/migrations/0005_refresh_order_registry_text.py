"""The registry finds an order by its products as they stand (issue 15's fourteenth session).

Before it, an order's record kept the products and search text it was received with: a change notice that
replaced the lines left them as first ordered (the registry found the order by a product it no longer had and
not by its new one), and the products column listed a product once per line, uncut. Since then both follow
the lines (procedures.order_review.actions._set_lines). This writes them again from each order's lines for the
orders received before, in batches; a record whose text is already right is not written (nor, on PostgreSQL,
its trigram index). It applies the rule of actions._product_text and _search_text — the same functions the
actions call, so that the registry cannot find an order migrated here differently from one received today
(they take the lines' products and the customer, which the historical models give as the current ones do).
Backwards: nothing to undo (the text before was wrong, not a state to return to)."""
from django.db import migrations
from django.db.models import Prefetch

BATCH = 500


def refresh(apps, schema_editor):
    from procedures.order_review.actions import _product_text, _search_text

    OrderReview = apps.get_model("order_review", "OrderReview")
    OrderLine = apps.get_model("order_review", "OrderLine")
    Record = apps.get_model("core", "Record")
    lines = Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("position"))
    last = 0
    while True:
        batch = list(OrderReview.objects.filter(pk__gt=last).order_by("pk").select_related("record", "customer")
                     .prefetch_related(lines)[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        stale = []
        for review in batch:
            rows = [{"product": line.product, "specification": line.specification} for line in review.lines.all()]
            record = review.record
            product_text, search_text = _product_text(rows), _search_text(review.order_number, review.customer, rows)
            if (record.product_text, record.search_text) != (product_text, search_text):
                record.product_text, record.search_text = product_text, search_text
                stale.append(record)
        Record.objects.bulk_update(stale, ["product_text", "search_text"])


class Migration(migrations.Migration):
    dependencies = [("order_review", "0004_market_review_and_categories"), ("core", "0009_record_file_renditions")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
