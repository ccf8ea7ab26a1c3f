"""workflows.models.LockedCopies: the copy an action locked and changed is given to the gateways that follow
only while it is the row as it is now, i.e. until the same procedure's actions take another lock."""
from types import SimpleNamespace

from workflows.models import LockedCopies


def test_a_kept_copy_is_current_until_the_next_lock_is_taken():
    locks = LockedCopies()
    ref, other = SimpleNamespace(pk=1), SimpleNamespace(pk=2)
    copy = SimpleNamespace(pk=1, status="judged")
    assert locks.current(ref) is None  # nothing kept yet: read the row
    assert locks.keep(ref, copy) is copy
    assert locks.current(ref) is copy
    locks.keep(other, SimpleNamespace(pk=2))  # another case locked (it may share a lot with this one)
    assert locks.current(ref) is None
    locks.keep(ref, copy)
    locks.taken()  # a lock of a row whose copy is not kept (a CAPA action) also ends it
    assert locks.current(ref) is None


def test_each_procedure_counts_its_own_locks():
    p2, p3 = LockedCopies(), LockedCopies()
    ref, copy = SimpleNamespace(pk=1), SimpleNamespace(pk=1)
    p2.keep(ref, copy)
    p3.taken()
    assert p2.current(ref) is copy
