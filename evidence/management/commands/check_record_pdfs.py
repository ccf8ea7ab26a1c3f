"""Find the stored record PDFs that not every viewer can read (evidence.renditions) and, with --correct, add a
corrected rendering of each such version beside its files.

    python manage.py check_record_pdfs                          # report only
    python manage.py check_record_pdfs --rendered-until 2026-12-06
    python manage.py check_record_pdfs --correct --actor quality_mgr --reason "fonts misnumbered (2026-11-30 to 12-05)"

Reads the newest rendition of each version's files, versions in id order, a chunk at a time: a site of 100,000
records holds some 200,000 files, and a file takes the font parser about 8 ms here (an order review), so half an
hour. Exit status 1 when a defective file is left uncorrected or a file cannot be read, so that a script or CI
can act on it."""
import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from core.models import RecordFile, RecordVersion
from evidence import renditions
from evidence.retention import DESTROYED

CHUNK = 500


class Command(BaseCommand):
    help = "Check the stored record PDFs for fonts that Acrobat and Ghostscript misread; --correct adds renditions."

    def add_arguments(self, parser):
        parser.add_argument("--record", action="append", default=[], metavar="NUMBER",
                            help="only this record (repeat for several)")
        parser.add_argument("--rendered-from", type=datetime.date.fromisoformat, metavar="YYYY-MM-DD",
                            help="only versions whose newest file was rendered on or after this day")
        parser.add_argument("--rendered-until", type=datetime.date.fromisoformat, metavar="YYYY-MM-DD",
                            help="only versions whose newest file was rendered before this day")
        parser.add_argument("--correct", action="store_true",
                            help="add a corrected rendering of each version found defective")
        parser.add_argument("--actor", help="with --correct: the Quality manager's username (the audit entries' "
                                            "actor)")
        parser.add_argument("--reason", help="with --correct: why (kept with each new file and its audit entry)")

    def handle(self, *args, record, rendered_from, rendered_until, correct, actor, reason, **options):
        user = None
        if correct:
            if not actor or not (reason or "").strip():
                raise CommandError("--correct needs --actor and --reason")
            user = get_user_model().objects.filter(username=actor, is_active=True).first()
            if user is None or not renditions.can_add_rendition(user):
                raise CommandError(f"{actor}: no active Quality manager of that name")
        versions = RecordVersion.objects.exclude(record__status=DESTROYED).filter(files__isnull=False).distinct()
        if record:
            versions = versions.filter(record__number__in=record)
        zone = timezone.get_current_timezone()
        start = lambda day: datetime.datetime.combine(day, datetime.time(), zone)  # noqa: E731
        checked = defective = corrected = unreadable = 0
        last = 0
        while True:
            chunk = list(versions.filter(pk__gt=last).order_by("pk").select_related("record")
                         .prefetch_related("files")[:CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            for version in chunk:
                newest = RecordFile.newest(version.files.all())
                when = max(file.rendered_at for file in newest.values())
                if rendered_from and when < start(rendered_from) or rendered_until and when >= start(rendered_until):
                    continue
                checks = [renditions.check_file(file) for file in newest.values()]
                checked += len(checks)
                name = f"{version.record.number} v{version.version}"
                for check in checks:
                    if check.problem:
                        unreadable += 1
                        self.stdout.write(self.style.ERROR(f"{name} {check.file.kind} r{check.file.rendition}: "
                                                           f"{check.problem}"))
                if not any(check.needs_correction for check in checks):
                    continue
                defective += 1
                faces = sorted({face for check in checks for face in check.faces})
                self.stdout.write(f"{name}: fonts misread by Acrobat and Ghostscript ({', '.join(faces)})")
                if correct:
                    try:
                        added = renditions.add_corrected_rendition(version, actor=user, reason=reason)
                    except DomainError as exc:
                        self.stdout.write(self.style.ERROR(f"{name}: not corrected: {exc.message}"))
                        continue
                    corrected += 1
                    self.stdout.write(self.style.SUCCESS(f"{name}: corrected rendering {added[0].rendition} added"))
        self.stdout.write(f"files checked: {checked}, versions misread: {defective}, corrected: {corrected}, "
                          f"unreadable files: {unreadable}")
        if defective > corrected or unreadable:
            raise SystemExit(1)
