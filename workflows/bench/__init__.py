"""The performance benchmark (`manage.py bench`, `scripts/bench.sh`): a data generator that
multiplies the demo company's real processes in SQL (generate.py) and the measurements of the
task lists, dashboard, notifications and registry search against viewflow's stock queries and a
hand-written SQL floor (measure.py). PostgreSQL only; see README "Performance"."""
