import re
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
pytestmark = pytest.mark.django_db
from test_query_counts import world, CLAIMED  # noqa

def test_dump(world):
    c = Client(); c.force_login(world.people["quality"])
    c.get("/qms/orderreview/inbox/")
    with CaptureQueriesContext(connection) as ctx:
        c.get("/qms/orderreview/inbox/")
    for q in ctx.captured_queries: print(q["sql"][:300])
