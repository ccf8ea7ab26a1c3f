#!/usr/bin/env bash
# Idempotent setup of a working copy on a fresh (Debian) machine:
#   1. Debian packages (scripts/install-system-packages.sh; WITH_SERVICES=1 adds PostgreSQL + Redis)
#   2. .venv with the python3 on PATH (>= 3.11), created only if missing or broken
#   3. pip install -e ".[test]"   (skipped while pyproject.toml is unchanged since the last install)
#   4. manage.py compilemessages (only when there are .po files), migrate, collectstatic
# Every step is safe to re-run. The management commands use the settings from the
# environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, ...; default config.settings.base).
#
# Options: -q / --quiet (or SETUP_QUIET=1): print nothing unless something fails,
#          in which case the log (var/log/setup.log) is shown.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUIET="${SETUP_QUIET:-0}"
for arg in "$@"; do
  case "$arg" in
    -q|--quiet) QUIET=1 ;;
    *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ "$QUIET" = "1" ]; then
  mkdir -p var/log
  LOG="$ROOT/var/log/setup.log"
  if ! SETUP_QUIET=0 bash "$ROOT/scripts/setup.sh" >"$LOG" 2>&1; then
    echo "setup.sh failed; its log ($LOG):" >&2
    tail -n 80 "$LOG" >&2
    exit 1
  fi
  exit 0
fi

say() { printf '==> %s\n' "$*"; }

# --- 1. system packages -------------------------------------------------------
say "system packages"
bash scripts/install-system-packages.sh

# --- 2. virtualenv --------------------------------------------------------------
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

python_ok() {  # $1: interpreter; true if it runs and is >= 3.11
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
  local cand
  for cand in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && python_ok "$cand"; then
      command -v "$cand"
      return 0
    fi
  done
  return 1
}

if [ -e "$VENV" ] && ! python_ok "$PY"; then
  say "existing .venv is broken or too old; recreating it"
  rm -rf "$VENV"
fi
if [ ! -e "$VENV" ]; then
  BASE_PY="$(find_python)" || { echo "setup.sh: no python3 >= 3.11 on PATH" >&2; exit 1; }
  say "creating .venv with $BASE_PY ($("$BASE_PY" --version 2>&1))"
  if ! "$BASE_PY" -m venv "$VENV"; then
    # Debian's own python3 needs python3-venv for ensurepip.
    rm -rf "$VENV"
    if [ "$BASE_PY" = /usr/bin/python3 ] && [ "$(id -u)" -eq 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$BASE_PY" -m venv "$VENV"
    else
      echo "setup.sh: '$BASE_PY -m venv' failed" >&2
      exit 1
    fi
  fi
fi

# --- 3. Python dependencies -------------------------------------------------------
STAMP="$VENV/.qms-install-stamp"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1) $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [ "$(cat "$STAMP" 2>/dev/null || true)" = "$WANT" ] && "$PY" -c 'import django, celery, pytest_django' >/dev/null 2>&1; then
  say "python dependencies up to date"
else
  say "python dependencies (pip install -e .[test])"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  if ! "$PY" -m pip install -q -e ".[test]"; then
    # Fallback: install the dependency lists straight from pyproject.toml.
    say "editable install failed; installing the dependencies listed in pyproject.toml"
    mapfile -t DEPS < <("$PY" - <<'EOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
for dep in project.get("dependencies", []) + project.get("optional-dependencies", {}).get("test", []):
    print(dep)
EOF
)
    "$PY" -m pip install -q "${DEPS[@]}"
  fi
  echo "$WANT" >"$STAMP"
fi

# --- 4. Django ------------------------------------------------------------------------
export PATH="$VENV/bin:$PATH"
MANAGE=("$PY" manage.py)

if [ -n "$(find . \( -path ./.venv -o -path ./var -o -path ./.git -o -path ./node_modules \) -prune -o -name '*.po' -print -quit)" ]; then
  say "compilemessages"
  "${MANAGE[@]}" compilemessages -v 0 -i .venv -i var -i .git -i node_modules
else
  say "compilemessages: no .po files, skipped"
fi

say "migrate"
"${MANAGE[@]}" migrate --noinput -v 1
say "collectstatic"
"${MANAGE[@]}" collectstatic --noinput -v 0
say "build_pdf_fonts (the compact CJK faces of the record PDFs; about a minute once, then skipped)"
"${MANAGE[@]}" build_pdf_fonts -v 0
say "setup done"
