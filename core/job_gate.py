"""A test hook: hold a background job at a named point until the test lets it go.

The tests that kill a worker in the middle of a job (tests/test_worker_kill.py) need the job
to be exactly there when they kill it, without sleeping and hoping. With the setting
QMS_TEST_JOB_GATE naming a folder (config/settings/test.py reads it from the environment;
production settings never set it), a job reaching `hold("point")` while `<folder>/point.hold`
exists writes `<folder>/point.reached` and waits until the test removes `point.hold`.
Without the setting, or without the .hold file, `hold()` returns at once.
"""
import os
import time
from pathlib import Path

from django.conf import settings

MAX_WAIT = 300.0  # a forgotten .hold file must not hang a worker for ever


def hold(point: str) -> None:
    folder = getattr(settings, "QMS_TEST_JOB_GATE", "")
    if not folder:
        return
    gate = Path(folder) / f"{point}.hold"
    if not gate.exists():
        return
    (Path(folder) / f"{point}.reached").write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + MAX_WAIT
    while gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
