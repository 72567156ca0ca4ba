"""Plans: a free singer meets their limits before any work starts; a pro singer sees each training's cost.

On each stack: quotas count blobs in a folder or in S3, usage comes from SQLite or PostgreSQL.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from voicestudio.db.models import BlobRefRow, JobRow, UserRow
from voicestudio.db.types import utc_now
from voicestudio.studio.plans import PlansFileError, load_plans, month_start
from web.accounts import (
    FREE_STORAGE_BYTES,
    AccountsStudio,
    Member,
    accounts_studio_on,
    set_plan,
    tone_wav,
)
from web.stacks import each_stack  # noqa: F401  (the studio runs on each stack)

GPU_PRICE_PER_HOUR_USD = 2.5


@pytest.fixture(scope="module")
def plans(
    request: pytest.FixtureRequest, stack: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccountsStudio]:
    with accounts_studio_on(
        request, stack, tmp_path_factory.mktemp("plans"), gpu_price_per_hour_usd=GPU_PRICE_PER_HOUR_USD
    ) as started:
        yield started


def stored_bytes(studio: AccountsStudio, member: Member) -> int:
    with studio.studio.sessions() as session:
        user_id = session.scalar(select(UserRow.id).where(UserRow.email == member.email))
        sizes = session.scalars(select(BlobRefRow.size_bytes).where(BlobRefRow.owner == user_id)).all()
    return sum(sizes)


def a_training(
    studio: AccountsStudio,
    member: Member,
    project_id: str,
    gpu_s: float,
    days_ago: float = 0,
    queued_days_ago: float | None = None,
) -> str:
    """A finished training of the member, as a GPU worker records it (device, wall and GPU seconds): it ran
    `days_ago`, after waiting in the queue since `queued_days_ago` (default: the same day)."""
    ran_at = utc_now() - timedelta(days=days_ago)
    queued_at = utc_now() - timedelta(days=queued_days_ago if queued_days_ago is not None else days_ago)
    with studio.studio.sessions() as session:
        user_id = session.scalar(select(UserRow.id).where(UserRow.email == member.email))
    job_id = studio.unsent_jobs().create("train", {"project_id": project_id}, project_id, owner=user_id)
    with studio.studio.sessions.begin() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(
                state="succeeded",
                device="cuda",
                run_s=gpu_s + 30.0,
                gpu_s=gpu_s,
                created_at=queued_at,
                started_at=ran_at - timedelta(seconds=gpu_s + 30.0),
                finished_at=ran_at,
            )
        )
    return job_id


def test_a_free_singer_keeps_three_projects(plans: AccountsStudio) -> None:
    aki = plans.member("aki@example.org")
    made = [aki.new_project(f"Aki {n}") for n in range(3)]
    fourth = aki.send(
        "POST", "/api/projects", json={"name": "Aki 4", "language": "ja", "prompt_sets": ["ja-cv"]}
    )
    assert fourth.status_code == 402
    assert fourth.json() == {"error": "Your free plan includes 3 projects; delete one or upgrade."}
    assert len(aki.get("/api/projects").json()) == 3

    assert aki.send("DELETE", f"/api/projects/{made[0]}").status_code == 204
    assert aki.get(f"/api/projects/{made[0]}").status_code == 404
    aki.new_project("Aki 4")
    assert aki.get("/api/account").json()["usage"]["projects"] == 3


def test_an_upload_past_the_storage_quota_is_refused_before_it_is_kept(plans: AccountsStudio) -> None:
    ema = plans.member("ema@example.org")
    project_id = ema.new_project("Ema")
    takes = {prompt: tone_wav(200.0 + 40 * n) for n, prompt in enumerate(("ka", "ki", "ku", "ke"))}
    for prompt in ("ka", "ki", "ku"):
        assert ema.upload(project_id, prompt, takes[prompt]).status_code == 201
    used = stored_bytes(plans, ema)
    assert used == sum(len(takes[p]) for p in ("ka", "ki", "ku"))
    assert used + len(takes["ke"]) > FREE_STORAGE_BYTES
    files_before = plans.blob_files()

    declared = ema.upload(project_id, "ke", takes["ke"])  # Content-Length says it will not fit
    assert declared.status_code == 402
    assert declared.json()["error"] == (
        f"Your free plan stores 300.0 kB; you use {used / 1000:.1f} kB and this needs 88.2 kB more. "
        "Delete a project you no longer need, or upgrade."
    )
    streamed = ema.send(  # no Content-Length: refused once the bytes are in, and removed again
        "POST",
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": "ja-cv", "prompt_id": "ke"},
        content=iter([takes["ke"][:40_000], takes["ke"][40_000:]]),
        headers={"Content-Type": "audio/wav"},
    )
    assert streamed.status_code == 402 and "Your free plan stores 300.0 kB" in streamed.json()["error"]
    assert plans.blob_files() == files_before
    assert stored_bytes(plans, ema) == used
    assert ema.get("/api/account").json()["usage"]["storage_bytes"] == used

    assert ema.send("DELETE", f"/api/projects/{project_id}").status_code == 204
    assert stored_bytes(plans, ema) == 0  # the deleted project's takes are collected at once
    assert len(plans.blob_files()) == len(files_before) - 3


def test_a_free_singer_cannot_start_a_training(plans: AccountsStudio) -> None:
    rin = plans.member("rin@example.org")
    project_id = rin.new_project("Rin")
    refused = rin.send("POST", f"/api/projects/{project_id}/voices", json={"preset": "tiny", "steps": 10})
    assert refused.status_code == 402
    assert refused.json()["error"] == (
        "Your free plan makes UTAU voicebanks only; training a neural voice needs a plan with neural "
        "training. Upgrade to train one."
    )
    assert rin.get("/api/jobs").json() == []


def test_a_pro_singer_trains_until_the_month_s_gpu_minutes_are_used(plans: AccountsStudio) -> None:
    kai = plans.member("kai@example.org")
    set_plan(plans, "kai@example.org", "pro")
    project_id = kai.new_project("Kai")
    last_month = (utc_now() - month_start(utc_now())).total_seconds() / 86_400 + 1
    a_training(plans, kai, project_id, gpu_s=3 * 3600.0, days_ago=last_month)  # last month: not counted
    first = a_training(plans, kai, project_id, gpu_s=600.0)

    account = kai.get("/api/account").json()
    assert account["plan"]["name"] == "pro" and account["plan"]["gpu_minutes_month"] == 30
    assert account["usage"]["gpu_minutes_used"] == pytest.approx(10.0)
    assert account["usage"]["gpu_minutes_left"] == pytest.approx(20.0)
    allowed = kai.send("POST", f"/api/projects/{project_id}/voices", json={"preset": "tiny", "steps": 10})
    assert allowed.status_code == 409  # past the plan check: the project has no consent yet

    usage = kai.get("/api/account/usage").json()
    assert usage["gpu_price_per_hour_usd"] == GPU_PRICE_PER_HOUR_USD
    newest = usage["trainings"][0]
    assert (newest["job_id"], newest["project_name"], newest["device"]) == (first, "Kai", "cuda")
    assert (newest["gpu_s"], newest["run_s"]) == (600.0, 630.0)
    assert newest["cost_usd"] == pytest.approx(600 / 3600 * GPU_PRICE_PER_HOUR_USD)
    assert usage["trainings"][1]["cost_usd"] == pytest.approx(3 * GPU_PRICE_PER_HOUR_USD)

    a_training(plans, kai, project_id, gpu_s=1200.0)
    assert kai.get("/api/account").json()["usage"]["gpu_minutes_left"] == 0.0
    refused = kai.send("POST", f"/api/projects/{project_id}/voices", json={"preset": "tiny", "steps": 10})
    assert refused.status_code == 402
    assert refused.json()["error"] == (
        "Your pro plan includes 30 GPU minutes a month and you have used 30. "
        "Training is possible again on the 1st, or upgrade."
    )


def test_deleting_a_project_keeps_the_gpu_minutes_its_trainings_used(plans: AccountsStudio) -> None:
    mio = plans.member("mio@example.org")
    set_plan(plans, "mio@example.org", "pro")
    doomed = mio.new_project("Mio old")
    kept = mio.new_project("Mio new")
    job_id = a_training(plans, mio, doomed, gpu_s=1800.0)
    assert mio.get("/api/account").json()["usage"]["gpu_minutes_left"] == 0.0

    assert mio.send("DELETE", f"/api/projects/{doomed}").status_code == 204
    usage = mio.get("/api/account").json()["usage"]
    assert (usage["projects"], usage["gpu_minutes_used"], usage["gpu_minutes_left"]) == (1, 30.0, 0.0)
    trainings = mio.get("/api/account/usage").json()["trainings"]
    assert [(t["job_id"], t["project_id"], t["gpu_s"]) for t in trainings] == [(job_id, None, 1800.0)]
    assert trainings[0]["cost_usd"] == pytest.approx(0.5 * GPU_PRICE_PER_HOUR_USD)
    refused = mio.send("POST", f"/api/projects/{kept}/voices", json={"preset": "tiny", "steps": 10})
    assert refused.status_code == 402
    assert "used 30" in refused.json()["error"]


def test_gpu_minutes_count_in_the_month_the_training_ran_not_when_it_was_queued(
    plans: AccountsStudio,
) -> None:
    noa = plans.member("noa@example.org")
    set_plan(plans, "noa@example.org", "pro")
    project_id = noa.new_project("Noa")
    into_month_days = (utc_now() - month_start(utc_now())).total_seconds() / 86_400
    a_training(plans, noa, project_id, gpu_s=600.0, days_ago=0, queued_days_ago=into_month_days + 2)
    a_training(plans, noa, project_id, gpu_s=900.0, days_ago=into_month_days + 1)  # ran last month
    assert noa.get("/api/account").json()["usage"]["gpu_minutes_used"] == pytest.approx(10.0)


def test_a_consent_recording_past_the_storage_quota_is_refused_and_not_kept(plans: AccountsStudio) -> None:
    uta = plans.member("uta@example.org")
    project_id = uta.new_project("Uta")
    for n, prompt in enumerate(("ka", "ki", "ku")):
        assert uta.upload(project_id, prompt, tone_wav(220.0 + 30 * n)).status_code == 201
    used = stored_bytes(plans, uta)
    files_before = plans.blob_files()
    consent = tone_wav(330.0, seconds=2.0)  # refused for its size, before any audio check
    assert used + len(consent) > FREE_STORAGE_BYTES

    declared = uta.send(
        "POST", f"/api/projects/{project_id}/consent", content=consent, headers={"Content-Type": "audio/wav"}
    )
    assert declared.status_code == 402
    assert declared.json()["error"].startswith(
        f"Your free plan stores 300.0 kB; you use {used / 1000:.1f} kB"
    )
    streamed = uta.send(  # no Content-Length: refused once the bytes are in, and removed again
        "POST",
        f"/api/projects/{project_id}/consent",
        content=iter([consent[:40_000], consent[40_000:]]),
        headers={"Content-Type": "audio/wav"},
    )
    assert streamed.status_code == 402 and "Your free plan stores 300.0 kB" in streamed.json()["error"]
    assert plans.blob_files() == files_before
    assert stored_bytes(plans, uta) == used
    assert uta.get(f"/api/projects/{project_id}/training").json()["consent"] is False


def test_a_broken_plans_file_is_named_with_what_to_write(tmp_path: Path) -> None:
    broken = tmp_path / "plans.json"
    broken.write_text('{"free": {"max_projects": -1}}', encoding="utf-8")
    with pytest.raises(PlansFileError, match=r"plans\.json is not valid: .*Write it as"):
        load_plans(broken)
    assert load_plans(None)["free"].neural_training is False
    assert load_plans(None)["pro"].neural_training is True
