"""P1 end to end through the action functions; the API and browser tests walk the same paths."""
import datetime

import pytest
from viewflow.workflow.status import PROCESS

from core.models import AuditEntry, Signature
from procedures.order_review.models import LedgerEntry, OrderReviewStatus
from p1_driver import act, review_all, start
from procedures.order_review.models import order_review_of

pytestmark = pytest.mark.django_db


def test_order_is_reviewed_by_four_departments_and_approved_by_market_manager(people, order_data):
    process = start(people["market"], order_data())
    review = order_review_of(process)
    assert review.record.number.startswith("OR-")
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意接单 Accepted"}, meaning="approved")
    act(process, "write_plan", people["materials"], {
        "planned_start": datetime.date.today().isoformat(),
        "planned_finish": order_data()["lines"][0]["delivery_date"],
        "material_readiness": "钢材已备 steel in stock"}, meaning="authored")
    process.refresh_from_db()
    review.refresh_from_db()
    assert review.status == OrderReviewStatus.APPROVED
    assert process.status == PROCESS.DONE
    assert LedgerEntry.objects.get(order_review=review).revision == 0
    signed = Signature.objects.filter(record_version__record=review.record)
    assert sorted(signed.values_list("signer_username", "meaning")) == [
        ("engineering", "reviewed"), ("market", "reviewed"), ("market_mgr", "approved"), ("materials", "reviewed"),
        ("production", "reviewed"), ("quality", "reviewed")]  # Market and the four departments, then the manager
    assert AuditEntry.objects.filter(record=review.record, action="esign.signed").count() == 6


def test_the_lines_an_action_just_wrote_are_recorded_as_the_database_gives_them_back(people, order_data):
    """receive_order and a restore keep the lines they write on the order (OrderReview.keep_lines) instead of
    reading them back: the version they record must be the one a fresh read of the order gives."""
    from core.canonical import jsonable
    from procedures.order_review.actions import _restore_lines
    from procedures.order_review.models import OrderReview
    from procedures.order_review.records import order_review_snapshot

    process = start(people["market"], order_data(number="PO-KEEP-1", quantity="1250.5"))
    review = OrderReview.objects.get(pk=order_review_of(process).pk)
    stored = review.record.get_version().data
    assert stored["lines"] == jsonable(order_review_snapshot(review))["lines"]
    assert stored["lines"][0]["quantity"] == "1250.5" and stored["is_sample"] is False
    _restore_lines(review, stored["lines"])  # text, as a version holds them
    kept = jsonable(order_review_snapshot(review))  # sample rule and total computed from the kept lines
    assert kept == jsonable(order_review_snapshot(OrderReview.objects.get(pk=review.pk)))
    assert kept["lines"] == stored["lines"] and kept["total_amount"] == stored["total_amount"]


def test_a_start_writes_its_record_its_number_and_its_process_once(people, order_data):
    """Issue 15.4 (starts per second): an order's start writes its record with what it is found by (no UPDATE of
    its search text after the lines, which would write the row and each of its indexes, the trigram index among
    them, again), takes its number in one statement, leaves its artifact for the start's own save of the process
    and does not read back the attachments it stored, nor lock the process it has just inserted — and what it
    writes is what a fresh read gives."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from procedures.order_review.flows import OrderReviewFlow
    from workflows import actions

    node = OrderReviewFlow.start
    start(people["market"], order_data(number="PO-WARM"))  # the caches of this process (content types …)
    with CaptureQueriesContext(connection) as queries:
        process = actions.start_process(node, actor=people["market"],
                                        form=node.make_form(data=order_data(number="PO-ONCE"), api=True))
    sql = [q["sql"] for q in queries.captured_queries]

    def statements(verb, table):
        return [s for s in sql if s.startswith(verb) and f'"{table}"' in s.split(" WHERE ")[0]]

    assert len(statements("INSERT", "core_record")) == 1
    assert not [s for s in statements("UPDATE", "core_record") if "search_text" in s or "product_text" in s]
    assert len(statements("UPDATE", "core_numbersequence")) == 1 and "RETURNING" in statements(
        "UPDATE", "core_numbersequence")[0]
    assert not statements("SELECT", "core_numbersequence")
    assert len(statements("UPDATE", "viewflow_process")) == 1  # the start's save (StartActivation.execute)
    assert not statements("SELECT", "forms_attachment")
    # the process this transaction has just inserted is not locked in a savepoint of its own (StartStepActivation)
    assert not [s for s in sql if '"viewflow_process"' in s and "FOR UPDATE" in s]

    process.refresh_from_db()
    review = order_review_of(process)
    assert (process.artifact_content_type.model_class(), process.artifact_object_id) == (type(review), review.pk)
    record = review.record
    record.refresh_from_db()
    assert record.product_text == "P-1001 精密轴承座, P-1002 铝合金端盖"
    assert record.search_text.split()[:2] == ["PO-ONCE", "C001"] and "P-1002" in record.search_text
    data = record.get_version().data
    assert data["record_number"] == record.number and data["attachments"] == []



def test_an_order_of_many_products_is_listed_under_those_that_fit_and_found_by_every_one(people, order_data):
    """The registry's products column holds 500 characters: an order of 40 products (about 770 characters) was
    refused on PostgreSQL (the text too long for its column) and stored whole on SQLite. Each product is now named
    once, the column cut after the last whole product that fits and marked as cut, and the registry's product
    filter finds the order by every one of its products (the search text names them all), by the API too."""
    from api_driver import client_for
    from core.search import CUT_MARK
    from forms.models import Product

    products = [Product.objects.create(code=f"P-9{n:03d}", name_zh=f"测试零件 {n:02d} 号", name_en=f"Test part {n}")
                for n in range(40)]
    data = order_data(number="PO-40-PRODUCTS")
    data["lines"] = [dict(data["lines"][0], product=p.code) for p in [*products, products[0]]]  # one twice
    record = order_review_of(start(people["market"], data)).record
    record.refresh_from_db()
    named = [f"{p.code} {p.name_zh}" for p in products]
    assert len(record.product_text) <= 500 and record.product_text.endswith(CUT_MARK)
    entries = record.product_text.removesuffix(CUT_MARK).split(", ")
    assert entries == named[:len(entries)] and 20 < len(entries) < 40  # in line order, each once
    assert len(", ".join(named[:len(entries) + 1]) + CUT_MARK) > 500  # the next one would not have fitted
    assert all(p.code in record.search_text for p in products)
    assert len(record.get_version().data["lines"]) == 41

    quality = client_for("quality_mgr")
    for product, found in ((products[0].code, True), (products[-1].code, True), (products[-1].name_zh, True),
                           ("P-1002", False)):  # the last one is past the cut; P-1002 is on no line
        numbers = [r["number"] for r in quality.get("/api/records/", {"product": product}).json()["results"]]
        assert (record.number in numbers) is found, product


def test_the_migration_writes_again_the_products_and_search_text_of_orders_received_before(people, order_data):
    """order_review migration 0005: an order received before its products and search text followed its lines
    (a change had replaced its lines and left the text as first ordered; the products column named a product once
    per line) is found by its lines' products after the migration, exactly as an order received today; an order
    whose text is already right is not written again."""
    import importlib
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api_driver import client_for
    from core.models import Record

    migration = importlib.import_module("procedures.order_review.migrations.0005_refresh_order_registry_text")
    stale = order_review_of(start(people["market"], order_data(number="PO-STALE-1"))).record
    right = order_review_of(start(people["market"], order_data(number="PO-RIGHT-1"))).record
    stale.refresh_from_db()
    right.refresh_from_db()
    expected = (stale.product_text, stale.search_text)
    assert "P-1001" in expected[0] and "P-1001" in expected[1]
    # as the code before left it: the products first ordered (here one the order no longer has), named per line
    Record.objects.filter(pk=stale.pk).update(product_text="P-7777 旧零件, P-7777 旧零件",
                                              search_text="PO-STALE-1 P-7777 旧零件 old part")
    quality = client_for("quality_mgr")
    found = lambda product: [r["number"] for r in quality.get(  # noqa: E731
        "/api/records/", {"product": product}).json()["results"]]
    assert stale.number in found("P-7777") and stale.number not in found("P-1001")

    from django.db.migrations.executor import MigrationExecutor

    historical = MigrationExecutor(connection).loader.project_state(
        ("order_review", "0005_refresh_order_registry_text"), at_end=False).apps  # what RunPython is given
    with CaptureQueriesContext(connection) as queries:
        migration.refresh(historical, None)
    written = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"core_record"' in q["sql"]]
    assert len(written) == 1  # one batch, and in it the stale record alone
    assert re.findall(r"IN \(([^)]*)\)", written[0].split("WHERE")[-1]) == [str(stale.pk)]
    stale.refresh_from_db()
    assert (stale.product_text, stale.search_text) == expected
    assert stale.number not in found("P-7777") and stale.number in found("P-1001")
    assert Record.objects.get(pk=right.pk).search_text == right.search_text


def test_the_migrations_copy_of_the_registry_rule_is_the_actions_rule(people, order_data):
    """order_review migration 0005 keeps its own copy of _product_text and _search_text (a migration must not change
    with later code): while the actions' rule is the same, both give the same text, for a short order and for one
    whose products do not fit the column."""
    import importlib

    from core.models import Record
    from forms.models import Customer, Product
    from procedures.order_review import actions

    migration = importlib.import_module("procedures.order_review.migrations.0005_refresh_order_registry_text")
    customer = Customer.objects.get(code="C001")
    products = [Product.objects.create(code=f"P-8{n:03d}", name_zh=f"对照零件 {n:02d}", name_en=f"Check part {n}")
                for n in range(40)]
    limit = Record._meta.get_field("product_text").max_length
    for count in (1, 2, 40):
        lines = [{"product": p, "specification": f"规格 {i}"} for i, p in enumerate([*products[:count], products[0]])]
        assert migration.product_text(lines, limit) == actions._product_text(lines)
        assert migration.search_text("PO-RULE-1", customer, lines) == actions._search_text("PO-RULE-1", customer, lines)
    assert actions._product_text(lines).endswith(migration.CUT_MARK)  # the 40 products were cut
