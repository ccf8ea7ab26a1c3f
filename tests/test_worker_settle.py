"""A Celery worker, when it starts, loads what every PDF render shares and freezes its heap
(config.celery.settle_worker), so that Python's collector, which makes a full pass every two or three renders,
walks only what the renders create — not the ~300,000 objects of Django, the apps and the stylesheets. Unfrozen,
one render in three took 0.45 s instead of 0.25 s (tests/test_benchmarks.py -k pdf_rendering prints both)."""
import gc
import weakref

from celery.signals import worker_init, worker_process_init

from config.celery import settle_worker
from forms import pdf


def receivers(signal):
    return [ref() if isinstance(ref, weakref.ReferenceType) else ref for _, ref in signal.receivers]


def test_settle_worker_runs_in_the_main_process_and_in_every_pool_process():
    assert settle_worker in receivers(worker_init)  # after Django's own (celery's fixup sets Django up there)
    assert settle_worker in receivers(worker_process_init)
    assert receivers(worker_init).index(settle_worker) > 0


def test_what_renders_share_is_loaded_and_the_heap_frozen():
    assert gc.get_freeze_count() == 0
    gc.collect()
    tracked = len(gc.get_objects())
    try:
        settle_worker()
        assert pdf._record_stylesheet.cache_info().currsize == 1 and pdf._engine.cache_info().currsize == 1
        assert gc.get_freeze_count() > tracked * 0.9
        assert len(gc.get_objects()) < tracked * 0.05  # what a full pass walks now
    finally:
        gc.unfreeze()
