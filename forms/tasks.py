"""The record renderer's Celery task, defined beside what it runs (forms.pdf) and imported here
so that Celery's autodiscovery registers it."""
from .pdf import render_record_version  # noqa: F401
