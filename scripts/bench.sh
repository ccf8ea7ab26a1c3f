#!/usr/bin/env bash
# The performance benchmark (README "Performance"): on a PostgreSQL database of its own, migrate,
# seed the demo company once, grow the data to each size in turn and measure.
#   BENCH_DB=postgres://postgres@127.0.0.1:5432/bench bash scripts/bench.sh 10000 100000 1000000
# Results: var/bench/<timestamp>-<size>.json (QMS_VAR_DIR/bench), each compared with the last run of its size.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${BENCH_DB:-postgres://postgres@127.0.0.1:5432/bench}"
PY=.venv/bin/python
$PY manage.py migrate -v0
if [ "$($PY manage.py shell -c 'from viewflow.workflow.models import Task; print(Task.objects.exists())')" != "True" ]; then
  $PY manage.py seed_demo
fi
[ $# -gt 0 ] || set -- 10000 100000
for size in "$@"; do
  $PY manage.py bench --tasks "$size" ${BENCH_ARGS:-}
done
