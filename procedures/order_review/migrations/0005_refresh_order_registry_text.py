"""The registry finds an order by its products as they stand (issue 15's fourteenth session).

Before it, an order's record kept the products and search text it was received with: a change notice that
replaced the lines left them as first ordered (the registry found the order by a product it no longer had and
not by its new one), and the products column listed a product once per line, uncut. Since then both follow
the lines (procedures.order_review.actions._set_lines). This writes them again from each order's lines for the
orders received before, in batches; a record whose text is already right is not written (nor, on PostgreSQL,
its trigram index). The rule is actions._product_text and _search_text as they were when this was written,
copied here so that a later change of theirs cannot change what this migration writes
(tests/test_p1_actions.py checks that they still agree). They are derived search columns, not record content:
no version or audit entry is written for them, as none is when the actions write them.
Backwards: nothing to undo (the text before was wrong, not a state to return to)."""
from django.db import migrations
from django.db.models import Prefetch

BATCH = 500
CUT_MARK = ", …"  # core.search.CUT_MARK


def search_text(order_number, customer, lines):
    parts = [order_number, customer.code, customer.name_zh, customer.name_en]
    for line in lines:
        parts += [line["product"].code, line["product"].name_zh, line["product"].name_en, line["specification"]]
    return " ".join(p for p in parts if p)


def product_text(lines, limit):
    entries = list(dict.fromkeys(f"{line['product'].code} {line['product'].name_zh}" for line in lines))
    text = ", ".join(entries)
    if len(text) <= limit:
        return text
    while entries and len(", ".join(entries) + CUT_MARK) > limit:
        entries.pop()
    return ", ".join(entries) + CUT_MARK if entries else text[:limit - len(CUT_MARK)] + CUT_MARK


def refresh(apps, schema_editor):
    OrderReview = apps.get_model("order_review", "OrderReview")
    OrderLine = apps.get_model("order_review", "OrderLine")
    Record = apps.get_model("core", "Record")
    limit = Record._meta.get_field("product_text").max_length
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
            texts = product_text(rows, limit), search_text(review.order_number, review.customer, rows)
            if (record.product_text, record.search_text) != texts:
                record.product_text, record.search_text = texts
                stale.append(record)
        Record.objects.bulk_update(stale, ["product_text", "search_text"])


class Migration(migrations.Migration):
    dependencies = [("order_review", "0004_market_review_and_categories"), ("core", "0009_record_file_renditions")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
