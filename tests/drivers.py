"""Two ways to drive a procedure, with one interface, so that every path test runs
through the REST API and through the browser URLs (Django test client).

Both default to P1 (order review); another flow passes its start endpoint
(`ApiDriver(start_url=...)`) and its browser base URL (`WebDriver(base=...)`). Steps
are found by name in the flow of the process they belong to."""
import json
import re

from django.test import Client, TestCase
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from api_driver import client_for, signature
from workflows.demo import DEMO_PASSWORD
from procedures.order_review.flows import OrderReviewFlow


def open_task(pid, step, username=None):
    """The open task of `step`; where a step has several (one per department), the one
    `username` may work on."""
    flow = Process.objects.get(pk=pid).flow_class or OrderReviewFlow
    tasks = list(Task.objects.filter(process_id=pid, flow_task=getattr(flow, step))
                 .exclude(status__in=[STATUS.DONE, STATUS.CANCELED]).order_by("pk"))
    if len(tasks) > 1 and username:
        from accounts.models import User

        user = User.objects.get(username=username)
        tasks = [t for t in tasks if t.owner_id == user.pk or (not t.owner_id and user.has_perm(t.owner_permission))]
    assert len(tasks) == 1, f"{len(tasks)} open {step} tasks for {username}"
    return tasks[0]


def open_steps(pid):
    return sorted(t.flow_task.name for t in Task.objects.filter(process_id=pid, status__in=["NEW", "ASSIGNED"])
                  if hasattr(t.flow_task, "form_class"))


class ApiDriver:
    name = "api"
    start_url = "/api/order-reviews/"

    def __init__(self, start_url=None):
        self.clients = {}
        if start_url:
            self.start_url = start_url

    def client(self, username):
        if username not in self.clients:
            self.clients[username] = client_for(username)
        return self.clients[username]

    def post_start(self, username, data, files=None, url=None):
        """POST a start endpoint: JSON, or multipart with the JSON in `payload` and the files beside it."""
        client, url = self.client(username), url or self.start_url
        with TestCase.captureOnCommitCallbacks(execute=True):
            if files:
                body = {"payload": json.dumps(data)}
                for name, uploads in files.items():
                    for upload in uploads:
                        upload.seek(0)
                    body[name] = uploads
                response = client.post(url, body, format="multipart")
            else:
                response = client.post(url, data, format="json")
        self.last_response = response
        return response

    def start(self, username, data, files=None, url=None):
        response = self.post_start(username, data, files, url)
        assert response.status_code == 201, response.content
        return response.json()["process"]

    def start_change(self, username, data, meaning="authored"):
        body = {**data, "signature": signature(username, meaning)}
        response = self.client(username).post("/api/order-reviews/change/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["process"]

    def do(self, username, pid, step, data, meaning=None, reason="", files=None):
        client = self.client(username)
        task = open_task(pid, step, username)
        if task.status == STATUS.NEW:
            response = client.post(f"/api/tasks/{task.pk}/claim/")
            if response.status_code != 200:
                return response.status_code
        body = {"data": data}
        if meaning:
            body["signature"] = signature(username, meaning, reason)
        with TestCase.captureOnCommitCallbacks(execute=True):
            if files:
                multipart = {"payload": json.dumps(body)}
                for name, uploads in files.items():
                    for upload in uploads:
                        upload.seek(0)
                    multipart[name] = uploads
                response = client.post(f"/api/tasks/{task.pk}/complete/", multipart, format="multipart")
            else:
                response = client.post(f"/api/tasks/{task.pk}/complete/", body, format="json")
        self.last_response = response
        return response.status_code


def flatten(data, formsets=("lines",), files=None):
    """Nested step data → the POST body a browser sends (formset prefixes, checkboxes, files)."""
    flat = {}
    for name, uploads in (files or {}).items():
        for upload in uploads:
            upload.seek(0)
        flat[name] = uploads
    for key, value in data.items():
        if key in formsets:
            flat[f"{key}-TOTAL_FORMS"] = str(len(value))
            flat[f"{key}-INITIAL_FORMS"] = "0"
            for index, item in enumerate(value):
                for sub_key, sub_value in item.items():
                    if sub_value is not None:
                        flat[f"{key}-{index}-{sub_key}"] = str(sub_value)
        elif isinstance(value, bool):
            if value:
                flat[key] = "on"
        elif isinstance(value, list):
            flat[key] = [str(v) for v in value]
        elif value is not None:
            flat[key] = str(value)
    for key in formsets:
        flat.setdefault(f"{key}-TOTAL_FORMS", "0")
        flat.setdefault(f"{key}-INITIAL_FORMS", "0")
    return flat


class WebDriver:
    name = "web"
    base = "/qms/flows/orderreview"

    def __init__(self, base=None):
        self.clients = {}
        if base:
            self.base = base.rstrip("/")

    def client(self, username):
        if username not in self.clients:
            client = Client()
            response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 302, f"login of {username} failed"
            client.signed_in_session = False
            self.clients[username] = client
        return self.clients[username]

    def _signature(self, client, username, meaning, reason):
        fields = {"sig-password": DEMO_PASSWORD, "sig-meaning": meaning, "sig-reason": reason}
        if not client.signed_in_session:
            fields["sig-username"] = username  # 11.200: ID + password for the first signature of a session
        return fields

    def _post_step(self, client, url, username, data, meaning, reason, formsets=("lines",), files=None):
        body = flatten(data, formsets, files)
        if meaning:
            body.update(self._signature(client, username, meaning, reason))
        assert client.get(url).status_code == 200
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(url, body)
        if response.status_code == 302 and meaning:
            client.signed_in_session = True
        self.last_response = response
        return response

    def post_start(self, username, data, files=None, node="start"):
        """POST the start page of `node`; the response (302 on success, 200 with errors)."""
        return self._post_step(self.client(username), f"{self.base}/{node}/", username, data, None, "", files=files)

    def start(self, username, data, files=None, node="start"):
        response = self.post_start(username, data, files, node)
        assert response.status_code == 302, response.content.decode()[:3000]
        return int(re.search(r"/(\d+)/$", response["Location"]).group(1))

    def start_change(self, username, data, meaning="authored"):
        client = self.client(username)
        response = self._post_step(client, f"{self.base}/start_change/", username, data, meaning, "")
        assert response.status_code == 302, response.content.decode()[:3000]
        return int(re.search(r"/(\d+)/$", response["Location"]).group(1))

    def do(self, username, pid, step, data, meaning=None, reason="", files=None):
        client = self.client(username)
        task = open_task(pid, step, username)
        if task.status == STATUS.NEW:
            response = client.post(f"{self.base}/{pid}/{step}/{task.pk}/assign/")
            if response.status_code != 302:
                return response.status_code
        formsets = tuple(getattr(task.flow_task.form_class, "formsets", {})) or ("lines",)
        response = self._post_step(client, f"{self.base}/{pid}/{step}/{task.pk}/execute/", username, data,
                                   meaning, reason, formsets, files)
        return 200 if response.status_code == 302 else (400 if response.status_code == 200 else response.status_code)
