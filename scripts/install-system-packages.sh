#!/usr/bin/env bash
# Installs the Debian packages the engine needs on a fresh machine:
#   Pango/HarfBuzz (WeasyPrint), Noto CJK fonts (Chinese glyphs in every PDF), fontconfig (fc-match:
#   manage.py build_pdf_fonts finds Noto Sans CJK SC with it),
#   poppler-utils (pdffonts/pdftotext used by the PDF tests), ghostscript (the PDF tests draw a record's pages in
#   both families of viewers: poppler's and Ghostscript's, which finds glyphs as Acrobat does),
#   gettext (msgfmt for `manage.py compilemessages`), unzip (the bundle tests read a bundle with a reader
#   other than Python's zipfile; Java's ZipInputStream too, where a JDK is on the machine),
#   chromium (headless browser tests), postgresql + redis-server (CI / production-like runs),
#   curl (scripts/prod-smoke.sh).
# Idempotent: packages already present are skipped without touching apt.
set -euo pipefail
PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk poppler-utils ghostscript gettext unzip chromium)
if [ "${WITH_SERVICES:-0}" = "1" ]; then
  PKGS+=(postgresql redis-server curl)  # curl: scripts/prod-smoke.sh
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
