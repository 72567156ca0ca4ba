"""The studio is killed in the middle of a job; started again, it finishes the job and loses no take.

Embedded stack only: it kills `voicestudio serve` with its local worker child (a Celery worker outlives
API server restarts; tests/jobs/test_celery_backend.py kills and stops those).
"""

from pathlib import Path

import httpx

from web.jobs import FINISHED, finished, wait_for_state
from web.server import served_studio

RUNNING_OR_DONE = FINISHED | {"running"}
TRIES = 5  # an oto run of five takes lasts a quarter second: on a busy machine the poll may miss one


def test_a_job_cut_off_by_a_killed_server_is_run_again_after_restart(
    tmp_path: Path, takes: dict[str, bytes]
) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    with served_studio(data_dir, log) as server, httpx.Client(base_url=server.url, timeout=30.0) as client:
        project = client.post(
            "/api/projects", json={"name": "Ame", "language": "ja", "prompt_sets": ["ja-cv"]}
        )
        project_id = project.json()["id"]
        uploaded = {}
        for prompt_id, data in takes.items():
            response = client.post(
                f"/api/projects/{project_id}/takes",
                params={"prompt_set": "ja-cv", "prompt_id": prompt_id},
                content=data,
                headers={"Content-Type": "audio/wav"},
            )
            assert response.status_code == 201, response.text
            uploaded[prompt_id] = response.json()["take"]["id"]
        for _ in range(TRIES):
            job_id = client.post(f"/api/projects/{project_id}/oto").json()["job"]["id"]
            seen = wait_for_state(client, job_id, RUNNING_OR_DONE, poll_s=0.005)
            if seen["state"] == "running":
                break
        assert (seen["state"], seen["attempts"]) == ("running", 1)
        server.kill()

    with served_studio(data_dir, log) as server, httpx.Client(base_url=server.url, timeout=30.0) as client:
        job = finished(client, job_id)
        assert job["state"] == "succeeded", job["error"]
        assert job["attempts"] == 2  # the killed run counts, the second one finished
        assert job["result"]["files"] == len(takes)

        project = client.get(f"/api/projects/{project_id}").json()
        current = {p["prompt_id"]: p["take"]["id"] for p in project["prompts"] if p["take"] is not None}
        assert current == uploaded
        for prompt_id, take_id in uploaded.items():
            assert client.get(f"/api/takes/{take_id}/audio").content == takes[prompt_id]
        lines = client.get(f"/api/projects/{project_id}/oto").json()["lines"]
        assert sorted(line["wav_name"] for line in lines) == sorted(f"{p}.wav" for p in takes)
