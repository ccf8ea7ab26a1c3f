"""Several records versioned and signed by one act (core.records.add_versions, core.esign.apply_signatures): the
records are locked in one statement, their versions written in one INSERT and the records moved to them in one
UPDATE, and the signatures written in one INSERT, with each version, status change and signature audited on its own
exactly as one at a time would be (issue 15 item 4: a P2 judgement versions and signs two records)."""
import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from core import audit, esign, records
from core.esign import signature_problems
from core.models import AuditEntry, Meaning, Signature

pytestmark = pytest.mark.django_db


def two_records(actor):
    with transaction.atomic():
        first = records.create_record("order_review", actor=actor, status="in_review", data={"a": 1})
        second = records.create_record("order_review", actor=actor, status="in_review", data={"b": 1})
    return first, second


def test_two_records_are_versioned_in_three_statements_and_each_audited(people, django_assert_num_queries):
    actor = people["quality_mgr"]
    first, second = two_records(actor)
    before = AuditEntry.objects.count()
    with audit.atomic(), django_assert_num_queries(3) as captured:  # the lock; the INSERT; the UPDATE
        versions = records.add_versions([(second, {"b": 2}), (first, {"a": 2})], actor=actor, reason="judged",
                                        status="approved")
    lock = captured.captured_queries[0]["sql"]
    assert lock.count(str(first.pk)) and lock.count(str(second.pk)) and "ORDER BY" in lock
    assert [(v.record_id, v.version, v.data) for v in versions] == [(second.pk, 2, {"b": 2}), (first.pk, 2, {"a": 2})]
    assert (first.current_version, first.status) == (second.current_version, second.status) == (2, "approved")
    entries = list(AuditEntry.objects.order_by("seq")[before:].values_list("action", "record_id"))
    assert entries == [("record.version_created", second.pk), ("record.status_changed", second.pk),
                       ("record.version_created", first.pk), ("record.status_changed", first.pk)]


def test_an_unchanged_record_keeps_its_version_beside_a_changed_one(people):
    actor = people["quality_mgr"]
    first, second = two_records(actor)
    with audit.atomic():
        kept, made = records.add_versions([(first, {"a": 1}), (second, {"b": 3})], actor=actor, reason="x")
    assert (kept.version, made.version) == (1, 2)


def test_a_record_given_twice_is_refused_before_anything_is_written(people):
    actor = people["quality_mgr"]
    first, _second = two_records(actor)
    with pytest.raises(ValueError, match="given twice"), audit.atomic():
        records.add_versions([(first, {"a": 2}), (first, {"a": 3})], actor=actor, reason="x")
    first.refresh_from_db()
    assert first.current_version == 1


def test_signatures_of_one_act_are_one_insert_each_bound_audited_and_announced(people):
    """A rejection signed on two versions: both rows in one INSERT, each verifying against its own version, each
    with its own audit entry, and post_save sent for each (inbox.signals tells the authors of a rejection)."""
    actor = people["quality_mgr"]
    first, second = two_records(actor)
    versions = [first.get_version(), second.get_version()]
    announced = []

    def receiver(sender, instance, created, **kwargs):
        announced.append((instance.pk, created))

    post_save.connect(receiver, sender=Signature, dispatch_uid="test.announced")
    try:
        with audit.atomic():
            with CaptureQueriesContext(connection) as captured:
                signatures = esign.apply_signatures(versions, signer=actor, meaning=Meaning.REJECTED,
                                                    role="品质部经理 Quality manager", reason="不符合 does not conform")
    finally:
        post_save.disconnect(dispatch_uid="test.announced", sender=Signature)
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "core_signature"')]
    assert len(inserts) == 1
    assert all(s.pk for s in signatures) and announced == [(s.pk, True) for s in signatures]
    for signature, version in zip(signatures, versions):
        signature = Signature.objects.get(pk=signature.pk)
        assert signature.record_version_id == version.pk and signature.content_hash == version.content_hash
        assert signature_problems(signature) == []
        assert AuditEntry.objects.filter(action="esign.signed", object_id=str(signature.pk)).count() == 1
