"""Drives P1 through the REST API, as an external client would."""
from rest_framework.test import APIClient

from workflows.demo import DEMO_PASSWORD


def client_for(username, password=DEMO_PASSWORD):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    client.username = username
    return client


def signature(username, meaning, reason="", password=DEMO_PASSWORD):
    return {"username": username, "password": password, "meaning": meaning, "reason": reason}


def find_task(client, process_id, step):
    for task in client.get("/api/tasks/?queue=1").json()["results"] + client.get("/api/tasks/").json()["results"]:
        if task["process"] == process_id and task["step"] == step:
            return task
    raise AssertionError(f"{client.username} sees no {step} task of process {process_id}")


def do(client, process_id, step, data, meaning=None, reason=""):
    task = find_task(client, process_id, step)
    if task["status"] == "NEW":
        response = client.post(f"/api/tasks/{task['id']}/claim/")
        assert response.status_code == 200, response.content
    body = {"data": data}
    if meaning:
        body["signature"] = signature(client.username, meaning, reason)
    return client.post(f"/api/tasks/{task['id']}/complete/", body, format="json")
