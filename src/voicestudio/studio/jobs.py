"""The studio's job kinds; the worker imports this module (WorkerSettings.job_modules) to run them."""

from pathlib import Path
from typing import Final, cast

from sqlalchemy.orm import Session

from voicestudio.domain.jobs import JsonObject
from voicestudio.jobs import JobContext, JobStore, register
from voicestudio.studio.oto import check_oto_inputs, generate_project_oto
from voicestudio.studio.voicebanks import TextEncoding, build_project_voicebank, check_voicebank_inputs
from voicestudio.studio.voices import TrainRequest, check_training_inputs, train_project_voice

OTO_JOB: Final = "oto"
VOICEBANK_JOB: Final = "voicebank"
TRAIN_JOB: Final = "train"
JOB_MODULE: Final = __name__


def queue_oto(session: Session, jobs: JobStore, project_id: str) -> str:
    """Queue an oto run for the project's current reclist takes; NothingToDo when there are none."""
    check_oto_inputs(session, project_id)
    session.rollback()
    return jobs.create(OTO_JOB, {"project_id": project_id}, project_id)


def queue_voicebank(
    session: Session, jobs: JobStore, project_id: str, name: str | None, encoding: TextEncoding | None
) -> str:
    """Queue a voicebank build of the project's oto lines; NothingToDo while it has none."""
    bank_name = check_voicebank_inputs(session, project_id, name)
    session.rollback()
    payload: JsonObject = {"project_id": project_id, "name": bank_name, "encoding": encoding}
    return jobs.create(VOICEBANK_JOB, payload, project_id)


def queue_training(
    session: Session, jobs: JobStore, project_id: str, request: TrainRequest, data_dir: Path, needed_s: float
) -> str:
    """Queue training a voice on the project's sentence takes; NotReadyToTrain without consent or audio."""
    check_training_inputs(session, project_id, needed_s, request)
    session.rollback()
    payload: JsonObject = {
        "project_id": project_id,
        "data_dir": str(data_dir.absolute()),
        "min_audio_s": needed_s,
        **request.to_json(),
    }
    return jobs.create(TRAIN_JOB, payload, project_id)


def run_oto_job(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Generate the project's oto lines; the result counts lines, files and what wants a look."""
    summary = generate_project_oto(ctx.sessions, ctx.blobs, str(payload["project_id"]), ctx.progress)
    return {
        "lines": summary.line_count,
        "files": summary.file_count,
        "low_confidence": summary.low_confidence_count,
        "flagged": [{"wav_name": flag.wav_name, "reason": flag.reason} for flag in summary.flagged],
    }


def run_voicebank_job(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Build the project's voicebank zip; the result names the stored voicebank."""
    encoding = payload.get("encoding")
    voicebank_id = build_project_voicebank(
        ctx.sessions,
        ctx.blobs,
        str(payload["project_id"]),
        ctx.job_id,
        name=payload.get("name"),
        encoding=cast(TextEncoding | None, encoding),
        on_progress=ctx.progress,
    )
    return {"voicebank_id": voicebank_id}


def run_train_job(payload: JsonObject, ctx: JobContext) -> JsonObject:
    """Train (or resume training) the project's voice and export it; the result names the model."""
    model_id = train_project_voice(
        ctx.sessions,
        ctx.blobs,
        str(payload["project_id"]),
        ctx.job_id,
        Path(str(payload["data_dir"])),
        TrainRequest.from_json(payload),
        float(payload["min_audio_s"]),
        ctx.progress,
        earlier_detail=ctx.job.progress_detail,
    )
    return {"model_id": model_id}


register(OTO_JOB, run_oto_job)
register(VOICEBANK_JOB, run_voicebank_job)
register(TRAIN_JOB, run_train_job)
