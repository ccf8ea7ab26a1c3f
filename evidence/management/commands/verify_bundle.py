import zipfile

from django.core.management.base import BaseCommand

from evidence.bundles import verify_bundle_file


class Command(BaseCommand):
    help = ("Check an evidence bundle offline: every file against manifest.json and the manifest's "
            "Ed25519 signature; name each failure and exit 1 if any.")

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="the bundle's ZIP file")

    def handle(self, *args, bundle, **options):
        try:
            problems, manifest = verify_bundle_file(bundle)
        except (OSError, ValueError, zipfile.BadZipFile) as error:  # not a file, not a ZIP, a damaged member
            self.stdout.write(self.style.ERROR(f"FAIL {bundle}: {error}"))
            raise SystemExit(1)
        for problem in problems:
            self.stdout.write(self.style.ERROR(f"FAIL {problem}"))
        if problems:
            self.stdout.write(self.style.ERROR(f"{len(problems)} problem(s) found"))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(
            f"OK: {len(manifest['files'])} files match the manifest and its signature verifies"))
