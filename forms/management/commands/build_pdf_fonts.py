"""Build the compact CJK faces the record PDFs are set in (forms/pdf_fonts.py), from the installed
Noto Sans CJK SC. Run by scripts/setup.sh; a face already built from the same font is skipped."""
from django.core.management.base import BaseCommand

from forms import pdf_fonts


class Command(BaseCommand):
    help = "Build the compact Noto Sans CJK SC faces of the record PDFs into QMS['PDF_FONTS_DIR']."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="build again even if the files are up to date")

    def handle(self, *args, force=False, verbosity=1, **options):
        paths = pdf_fonts.build(force=force, log=self.stdout.write)  # each face built now is named
        if verbosity:
            self.stdout.write(f"compact PDF faces in {pdf_fonts.directory()}: {', '.join(p.name for p in paths.values())}")
