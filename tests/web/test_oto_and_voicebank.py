"""From takes to a voicebank: generate the oto, review the least sure lines first, fix one, download it.

On each stack: the jobs run in the studio's worker child, or on the Celery worker; the zip comes from the
blob folder, or from S3 through a presigned redirect.
"""

import io
import re
import zipfile
from typing import Any
from urllib.parse import unquote

from web.conftest import StudioUnderTest
from web.jobs import finished
from web.stacks import each_stack  # noqa: F401  (every test here runs on each stack)
from web.test_recording import new_project, upload

CV_TAKES = ("ka", "ki", "na", "sa")


def oto_lines(studio: StudioUnderTest, project_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = studio.client.get(f"/api/projects/{project_id}/oto").json()["lines"]
    return lines


def attachment_name(disposition: str) -> str:
    """The UTF-8 file name (`filename*=utf-8''...`) of an attachment, as a browser saves it."""
    match = re.search(r"filename\*=utf-8''([^;\s]+)", disposition, re.IGNORECASE)
    assert disposition.startswith("attachment;") and match is not None, disposition
    return unquote(match.group(1))


def ran_on(studio: StudioUnderTest, job_id: str) -> str:
    """The kind of worker that ran the job: `local` (a worker child) or `celery-cpu-<pid>`."""
    worker_id = studio.studio.jobs.get(job_id).worker_id or "?:?:?"
    label = worker_id.split(":")[1]
    return "local" if label.startswith("local-") else label


def expected_worker(studio: StudioUnderTest) -> str:
    return "local" if studio.scale is None else f"celery-cpu-{studio.scale.worker_pid}"


def watch(studio: StudioUnderTest, job_id: str) -> list[dict[str, Any]]:
    """Every message the job's WebSocket sends, up to the server closing it."""
    messages = []
    with studio.client.websocket_connect(f"/ws/jobs/{job_id}") as socket:
        while True:
            message = socket.receive_json()
            messages.append(message)
            if message["state"] in ("succeeded", "failed", "cancelled"):
                assert socket.receive()["type"] == "websocket.close"
                return messages


def test_a_recorded_reclist_becomes_a_voicebank(studio: StudioUnderTest, takes: dict[str, bytes]) -> None:
    client = studio.client
    project_id = new_project(studio, "Ame")
    take_ids = {name: upload(studio, project_id, name, takes[name]).json()["take"]["id"] for name in CV_TAKES}

    started = client.post(f"/api/projects/{project_id}/oto")
    assert started.status_code == 202
    job = started.json()["job"]
    assert (job["kind"], job["state"], job["attempts"]) == ("oto", "queued", 0)

    messages = watch(studio, job["id"])
    by_stage: dict[str, list[float]] = {}  # each stage (collecting takes, aligning) counts from 0 to 1
    for message in messages:
        by_stage.setdefault(message["stage"], []).append(message["fraction"])
    assert all(fractions == sorted(fractions) for fractions in by_stage.values()), by_stage
    assert messages[-1]["fraction"] == 1.0
    assert ran_on(studio, job["id"]) == expected_worker(studio)
    assert messages[-1]["state"] == "succeeded"
    assert messages[-1]["result"] == {
        "lines": 4,
        "files": 4,
        "low_confidence": messages[-1]["result"]["low_confidence"],
        "flagged": [],
    }
    assert {message["state"] for message in messages} <= {"queued", "running", "succeeded"}

    lines = oto_lines(studio, project_id)
    assert [line["alias"] for line in sorted(lines, key=lambda line: line["wav_name"])] == list(CV_TAKES)
    confidences = [line["confidence"] for line in lines]
    assert confidences == sorted(confidences)
    for line in lines:
        assert line["take_id"] == take_ids[line["alias"]]
        assert 0.0 <= line["offset_ms"] < line["duration_ms"]
        assert line["overlap_ms"] <= line["preutterance_ms"]
        assert (
            line["offset_ms"] - line["cutoff_ms"] <= line["duration_ms"]
        )  # negative cutoff: length from offset
        assert line["edited"] is False

    least_sure = lines[0]
    url = f"/api/projects/{project_id}/oto/{least_sure['id']}"
    crossed = {
        "offset_ms": 500,
        "consonant_ms": 120,
        "cutoff_ms": -300,
        "preutterance_ms": 60,
        "overlap_ms": 80,
    }
    refused = client.put(url, json=crossed)
    assert refused.status_code == 422
    assert "overlap (80 ms) comes after the preutterance (60 ms)" in refused.json()["error"]
    past_the_end = {**crossed, "overlap_ms": 20, "cutoff_ms": -(least_sure["duration_ms"] + 100)}
    assert "past the end of the recording" in client.put(url, json=past_the_end).json()["error"]

    fixed = {
        "offset_ms": 812.5,
        "consonant_ms": 140,
        "cutoff_ms": -420,
        "preutterance_ms": 90,
        "overlap_ms": 25,
    }
    edited = client.put(url, json=fixed)
    assert edited.status_code == 200
    assert edited.json() == {**least_sure, **fixed, "edited": True}

    again = client.post(f"/api/projects/{project_id}/oto").json()["job"]
    assert finished(client, again["id"])["state"] == "succeeded"
    kept = next(line for line in oto_lines(studio, project_id) if line["id"] == least_sure["id"])
    assert {name: kept[name] for name in fixed} == fixed and kept["edited"] is True
    assert len(oto_lines(studio, project_id)) == 4

    build = client.post(f"/api/projects/{project_id}/voicebanks", json={"name": "Ame CV"})
    assert build.status_code == 202
    built = finished(client, build.json()["job"]["id"])
    assert built["state"] == "succeeded", built["error"]
    assert ran_on(studio, built["id"]) == expected_worker(studio)
    url = f"/api/voicebanks/{built['result']['voicebank_id']}/download"
    answer = client.get(url, follow_redirects=False)
    if studio.scale is None:
        assert answer.status_code == 200  # sent from the blob folder
    else:  # the browser fetches it from S3 itself
        assert answer.status_code == 307
        assert answer.headers["location"].startswith(f"{studio.scale.seaweed.endpoint_url}/")
    download = client.get(url)
    assert download.headers["content-type"] == "application/zip"
    assert attachment_name(download.headers["content-disposition"]) == "Ame CV.zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    oto_ini = archive.read("Ame CV/oto.ini").decode("cp932").splitlines()
    assert f"{least_sure['wav_name']}={least_sure['alias']},812.5,140,-420,90,25" in oto_ini
    assert len(oto_ini) == 4
    assert sorted(n for n in archive.namelist() if n.endswith(".wav")) == [
        f"Ame CV/{n}.wav" for n in sorted(CV_TAKES)
    ]


def test_steps_without_their_inputs_say_what_comes_first(studio: StudioUnderTest) -> None:
    project_id = new_project(studio, "Empty")
    no_takes = studio.client.post(f"/api/projects/{project_id}/oto")
    assert no_takes.status_code == 409 and "Record some" in no_takes.json()["error"]
    no_lines = studio.client.post(f"/api/projects/{project_id}/voicebanks", json={})
    assert no_lines.status_code == 409 and "Generate the oto first" in no_lines.json()["error"]
    assert studio.client.get("/api/jobs/no-such-job").status_code == 404
    with studio.client.websocket_connect("/ws/jobs/no-such-job") as socket:
        assert "There is no job" in socket.receive_json()["error"]
