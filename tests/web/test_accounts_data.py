"""A singer takes all their data home, then deletes the account; files only they had are gone, shared stay.

On each stack: the takes come from a blob folder or from S3, and garbage collection deletes files or objects.
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from voicestudio.db.models import BlobRefRow, JobRow, ProjectRow, UserRow
from voicestudio.db.types import utc_now
from voicestudio.domain.jobs import JobState
from voicestudio.storage import blob_key
from voicestudio.studio.gc import DEFAULT_GRACE_S, collect_garbage, record_blob_now
from voicestudio.studio.training_state import TrainingState, save_training_state
from web.accounts import PASSWORD, AccountsStudio, accounts_studio_on, set_plan, tone_wav
from web.conftest import StudioUnderTest
from web.stacks import each_stack  # noqa: F401  (every test here runs on each stack)


@pytest.fixture(scope="module")
def data(
    request: pytest.FixtureRequest, stack: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccountsStudio]:
    with accounts_studio_on(request, stack, tmp_path_factory.mktemp("data")) as started:
        yield started


@pytest.fixture(scope="module")
def studio_workers() -> int:
    """No job runs here, so no worker child is started."""
    return 0


def blob_refs(studio: AccountsStudio) -> list[tuple[str, str]]:
    with studio.studio.sessions() as session:
        return [(row.owner, row.key) for row in session.scalars(select(BlobRefRow))]


def owners_left(studio: AccountsStudio) -> set[str]:
    with studio.studio.sessions() as session:
        return set(session.scalars(select(UserRow.id)))


def test_the_export_holds_every_take_byte_for_byte(data: AccountsStudio, takes: dict[str, bytes]) -> None:
    uta = data.member("uta@example.org")
    set_plan(data, "uta@example.org", "pro")
    project_id = uta.new_project("Uta CV")
    first_ka = uta.upload(project_id, "ka", tone_wav(300.0)).json()["take"]
    current = {prompt: uta.upload(project_id, prompt, takes[prompt]).json() for prompt in ("ka", "sa")}
    assert all(upload["current"] for upload in current.values())

    exported = uta.get("/api/account/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    assert exported.headers["content-disposition"] == 'attachment; filename="voicestudio-export.zip"'
    assert "content-length" not in exported.headers  # streamed as it is written
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    assert archive.testzip() is None
    root = "voicestudio-export"
    account = json.loads(archive.read(f"{root}/account.json"))
    assert (account["email"], account["plan"]) == ("uta@example.org", "pro")
    folder = f"{root}/projects/Uta CV-{project_id[:8]}"
    project = json.loads(archive.read(f"{folder}/project.json"))
    assert (project["id"], project["name"], project["prompt_sets"]) == (project_id, "Uta CV", ["ja-cv"])
    assert len(project["takes"]) == 3
    for prompt in ("ka", "sa"):
        assert archive.read(f"{folder}/takes/ja-cv/{prompt}.wav") == takes[prompt]
    assert archive.read(f"{folder}/takes/ja-cv/older/{first_ka['id']}.wav") == tone_wav(300.0)
    files = {take["file"] for take in project["takes"]}
    assert files == {f"takes/ja-cv/{p}.wav" for p in ("ka", "sa")} | {
        f"takes/ja-cv/older/{first_ka['id']}.wav"
    }
    assert json.loads(archive.read(f"{root}/jobs.json")) == []


def test_deleting_an_account_collects_only_the_files_no_one_else_has(
    data: AccountsStudio, takes: dict[str, bytes]
) -> None:
    nao = data.member("nao@example.org")
    shared_with = data.member("sei@example.org")
    for email in ("nao@example.org", "sei@example.org"):
        set_plan(data, email, "pro")
    project_id = nao.new_project("Nao")
    for prompt in ("ta", "ki", "na"):
        assert nao.upload(project_id, prompt, takes[prompt]).status_code == 201
    recorded = [p["prompt_id"] for p in nao.get(f"/api/projects/{project_id}").json()["prompts"] if p["take"]]
    assert sorted(recorded) == ["ki", "na", "ta"]
    sei_project = shared_with.new_project("Sei")
    sei_take = shared_with.upload(sei_project, "ki", takes["ki"]).json()["take"]  # the same bytes as Nao's ki
    files_before = data.blob_files()
    token = nao.token()

    wrong = nao.send("DELETE", "/api/account", json={"password": "not my password"})
    assert wrong.status_code == 401 and "password is wrong" in wrong.json()["error"]
    no_csrf = nao.client.request("DELETE", "/api/account", json={"password": PASSWORD})
    assert no_csrf.status_code == 403

    assert nao.send("DELETE", "/api/account", json={"password": PASSWORD}).status_code == 204
    assert nao.get("/api/account").status_code == 401
    assert data.client.get("/api/account", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with data.studio.sessions() as session:
        assert session.scalar(select(UserRow).where(UserRow.email == "nao@example.org")) is None
        assert (
            session.scalar(select(func.count()).select_from(ProjectRow).where(ProjectRow.id == project_id))
            == 0
        )
    gone = set(files_before) - set(data.blob_files())
    assert {path.name for path in gone} == {
        hashlib.sha256(takes[p]).hexdigest() for p in ("ta", "na")
    }  # ki is Sei's too
    assert hashlib.sha256(takes["ki"]).hexdigest() in {path.name for path in data.blob_files()}
    assert shared_with.get(f"/api/takes/{sei_take['id']}/audio").content == takes["ki"]
    assert not any(owner not in owners_left(data) for owner, _key in blob_refs(data))
    assert shared_with.get("/api/account").json()["usage"]["storage_bytes"] == len(takes["ki"])


def test_an_upload_no_row_took_counts_until_it_is_collected(data: AccountsStudio) -> None:
    studio = data.studio
    ryo = data.member("ryo@example.org")
    with studio.sessions() as session:
        ryo_id = session.scalar(select(UserRow.id).where(UserRow.email == "ryo@example.org"))
    assert ryo_id is not None
    stray = studio.blobs.put_stream([tone_wav(700.0)], 1_000_000)  # stored, but its take was never made
    with studio.sessions() as session:
        record_blob_now(session, ryo_id, stray)
    assert ryo.get("/api/account").json()["usage"]["storage_bytes"] == stray.size_bytes

    with studio.sessions() as session:
        young = collect_garbage(session, studio.blobs)  # within the grace period: it may still get its row
    assert (young.refs_dropped, studio.blobs.exists(stray.key)) == (0, True)
    with studio.sessions() as session:
        report = collect_garbage(session, studio.blobs, grace_s=0.0)
    assert (report.refs_dropped, report.blobs_deleted) >= (1, 1)
    assert report.bytes_freed >= stray.size_bytes
    assert not studio.blobs.exists(stray.key)
    assert ryo.get("/api/account").json()["usage"]["storage_bytes"] == 0


def test_a_blob_nothing_ever_recorded_is_swept_once_it_is_old(data: AccountsStudio) -> None:
    studio = data.studio
    lost = studio.blobs.put_stream([b"left behind by a killed worker"], 1000)
    with studio.sessions() as session:
        collect_garbage(session, studio.blobs)
    assert studio.blobs.exists(lost.key)  # young: its row may be on the way
    later = utc_now() + timedelta(seconds=2 * DEFAULT_GRACE_S)
    with studio.sessions() as session:
        report = collect_garbage(session, studio.blobs, now=later)
    assert report.blobs_deleted >= 1 and not studio.blobs.exists(lost.key)


def test_without_accounts_the_local_user_exports_too(
    studio: StudioUnderTest, takes: dict[str, bytes]
) -> None:
    made = studio.client.post(
        "/api/projects", json={"name": "Local", "language": "ja", "prompt_sets": ["ja-cv"]}
    )
    project_id = made.json()["id"]
    studio.client.post(
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": "ja-cv", "prompt_id": "ta"},
        content=takes["ta"],
        headers={"Content-Type": "audio/wav"},
    )
    archive = zipfile.ZipFile(io.BytesIO(studio.client.get("/api/account/export").content))
    assert (
        archive.read(f"voicestudio-export/projects/Local-{project_id[:8]}/takes/ja-cv/ta.wav") == takes["ta"]
    )
    assert studio.client.request("DELETE", "/api/account", json={"password": "x" * 8}).status_code == 404


def user_id(studio: AccountsStudio, email: str) -> str:
    with studio.studio.sessions() as session:
        found = session.scalar(select(UserRow.id).where(UserRow.email == email))
    assert found is not None
    return found


def key_of(data: bytes) -> str:
    return blob_key(hashlib.sha256(data).hexdigest())


def test_an_identical_upload_not_yet_recorded_survives_a_project_deletion(data: AccountsStudio) -> None:
    """Bea stores the bytes Aki recorded an hour ago, a moment before her take's row is written; Aki deletes
    his project meanwhile. The blob is Bea's now and stays, while Aki's other take goes at once."""
    studio = data.studio
    aki = data.member("aki@example.org")
    data.member("bea@example.org")
    project_id = aki.new_project("Aki")
    shared, own = tone_wav(810.0), tone_wav(820.0)
    assert aki.upload(project_id, "ka", shared).status_code == 201
    assert aki.upload(project_id, "sa", own).status_code == 201
    with studio.sessions() as session:  # Aki stored and recorded `shared` an hour ago
        row = session.get(BlobRefRow, (key_of(shared), user_id(data, "aki@example.org")))
        assert row is not None
        row.created_at = utc_now() - timedelta(hours=1)
        session.commit()

    bea_upload = studio.blobs.put_stream([shared], 1_000_000)  # Bea's take: stored, its row on the way
    assert aki.send("DELETE", f"/api/projects/{project_id}").status_code == 204

    assert studio.blobs.exists(bea_upload.key)  # stored again after Aki's record, within the grace
    assert not studio.blobs.exists(key_of(own))  # Aki's alone, not stored since: gone at once
    assert {owner for owner, key in blob_refs(data) if key in (key_of(shared), key_of(own))} == set()
    with studio.sessions() as session:
        record_blob_now(session, user_id(data, "bea@example.org"), bea_upload)
    assert studio.blobs.read(bea_upload.key) == shared


def add_training_job(
    studio: AccountsStudio, project_id: str, owner: str, state: JobState, manifest: str
) -> str:
    with studio.studio.sessions() as session:
        row = JobRow(kind="train", state=state.value, payload={}, project_id=project_id, owner=owner)
        row.state_key = manifest
        session.add(row)
        session.commit()
        return row.id


def test_deleting_a_project_frees_the_dataset_and_checkpoint_its_failed_training_left(
    data: AccountsStudio,
) -> None:
    """A failed training's dataset tar and checkpoint go with its project, unless a training of another
    project of the same user, still running, uses the same dataset."""
    studio = data.studio
    kai = data.member("kai@example.org")
    kai_id = user_id(data, "kai@example.org")
    failed_project, running_project = kai.new_project("Kai 1"), kai.new_project("Kai 2")
    dataset = studio.blobs.put_stream([b"dataset tar of Kai's takes"], 1000)
    failed_checkpoint = studio.blobs.put_stream([b"checkpoint at step 500"], 1000)
    running_checkpoint = studio.blobs.put_stream([b"checkpoint at step 1000"], 1000)
    failed_state = save_training_state(studio.blobs, TrainingState(dataset.key, failed_checkpoint.key, 500))
    running_state = save_training_state(
        studio.blobs, TrainingState(dataset.key, running_checkpoint.key, 1000)
    )
    add_training_job(data, failed_project, kai_id, JobState.failed, failed_state)
    add_training_job(data, running_project, kai_id, JobState.running, running_state)

    assert kai.send("DELETE", f"/api/projects/{failed_project}").status_code == 204

    assert not studio.blobs.exists(failed_checkpoint.key)
    assert studio.blobs.exists(dataset.key)  # the running training reads it
    assert studio.blobs.exists(running_checkpoint.key)
    assert kai.send("DELETE", f"/api/projects/{running_project}").status_code == 204
    assert not studio.blobs.exists(dataset.key) and not studio.blobs.exists(running_checkpoint.key)


def test_the_nightly_sweep_frees_what_a_failed_training_left_and_keeps_a_running_one(
    data: AccountsStudio,
) -> None:
    studio = data.studio
    mio = data.member("mio@example.org")
    mio_id = user_id(data, "mio@example.org")
    project_id = mio.new_project("Mio")
    states = {}
    for job_state in (JobState.failed, JobState.running):
        dataset = studio.blobs.put_stream([f"dataset of Mio's {job_state} training".encode()], 1000)
        checkpoint = studio.blobs.put_stream([f"checkpoint of Mio's {job_state} training".encode()], 1000)
        manifest = save_training_state(studio.blobs, TrainingState(dataset.key, checkpoint.key, 500))
        add_training_job(data, project_id, mio_id, job_state, manifest)
        states[job_state] = (dataset, checkpoint, manifest)

    with studio.sessions() as session:  # `voicestudio gc`, a day later
        report = collect_garbage(session, studio.blobs, now=utc_now() + timedelta(days=1))

    failed_dataset, failed_checkpoint, failed_manifest = states[JobState.failed]
    assert not studio.blobs.exists(failed_dataset.key) and not studio.blobs.exists(failed_checkpoint.key)
    assert report.bytes_freed >= failed_dataset.size_bytes + failed_checkpoint.size_bytes
    assert studio.blobs.exists(failed_manifest)  # the job's row still names it (a few bytes)
    assert all(
        studio.blobs.exists(key) for key in (states[JobState.running][0].key, states[JobState.running][1].key)
    )
