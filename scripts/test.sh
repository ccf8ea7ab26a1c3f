#!/usr/bin/env bash
# The one test command:  bash scripts/test.sh [pytest arguments]
# Sets the working copy up (scripts/setup.sh, quietly), then runs pytest in .venv and
# exits with pytest's exit code.
#   default:                 SQLite, Celery eager (no worker process)
#   CELERY_BROKER_URL=redis://...  (with DATABASE_URL=postgres://...):
#                            tests marked `worker` start a real Celery worker process
# Benchmarks are excluded by default: bash scripts/test.sh -m benchmark
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh --quiet

export PATH="$ROOT/.venv/bin:$PATH"
# The whole suite runs on every core (pytest-xdist, one test file per worker process;
# each worker has its own test database, files folder and Redis database). With
# arguments (a file, -k, -m benchmark …) pytest runs them as given, in one process.
if [ "$#" -eq 0 ]; then
  set -- -n "${QMS_TEST_WORKERS:-auto}" --dist loadfile
fi
set +e
"$ROOT/.venv/bin/python" -m pytest "$@"
rc=$?
set -e
exit "$rc"
