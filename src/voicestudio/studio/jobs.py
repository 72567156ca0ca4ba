"""The studio's job kinds; the worker imports this module (WorkerSettings.job_modules) to run them."""

from typing import Final, cast

from sqlalchemy.orm import Session

from voicestudio.domain.jobs import JsonObject
from voicestudio.jobs import GPU_QUEUE, JobContext, JobContinues, JobStore, register
from voicestudio.jobs.store import CPU_DEVICE
from voicestudio.settings import StudioSettings
from voicestudio.studio.oto import check_oto_inputs, generate_project_oto
from voicestudio.studio.usage import add_gpu_seconds
from voicestudio.studio.voice_training import train_project_voice
from voicestudio.studio.voicebanks import TextEncoding, build_project_voicebank, check_voicebank_inputs
from voicestudio.studio.voices import TrainRequest, check_training_inputs, resolved_device
from voicestudio.training_chunks import ChunkRunner

OTO_JOB: Final = "oto"
VOICEBANK_JOB: Final = "voicebank"
TRAIN_JOB: Final = "train"
JOB_MODULE: Final = __name__


def queue_oto(session: Session, jobs: JobStore, project_id: str, *, owner: str) -> str:
    """Queue `owner`'s oto run over the project's current reclist takes; NothingToDo when there are none."""
    check_oto_inputs(session, project_id)
    session.rollback()
    return jobs.create(OTO_JOB, {"project_id": project_id}, project_id, owner=owner)


def queue_voicebank(
    session: Session,
    jobs: JobStore,
    project_id: str,
    name: str | None,
    encoding: TextEncoding | None,
    *,
    owner: str,
) -> str:
    """Queue a voicebank build of `owner` from the project's oto lines; NothingToDo while it has none."""
    bank_name = check_voicebank_inputs(session, project_id, name)
    session.rollback()
    payload: JsonObject = {"project_id": project_id, "name": bank_name, "encoding": encoding}
    return jobs.create(VOICEBANK_JOB, payload, project_id, owner=owner)


def queue_training(
    session: Session, jobs: JobStore, project_id: str, request: TrainRequest, needed_s: float, *, owner: str
) -> str:
    """Queue training a voice of `owner` on the project's sentence takes; NotReadyToTrain without consent or
    audio. The payload is all a worker on any host needs, with the database and the blob store."""
    check_training_inputs(session, project_id, needed_s, request)
    session.rollback()
    payload: JsonObject = {"project_id": project_id, "min_audio_s": needed_s, **request.to_json()}
    return jobs.create(TRAIN_JOB, payload, project_id, owner=owner)


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
    """Train the project's voice for one chunk (`ctx.chunk_steps`; None: to the end) from the state an
    earlier run saved, then queue the next chunk (JobContinues) or, at the last step, export it; the result
    names the model. Payloads of older studios carry `data_dir`, which is not needed any more."""
    request = TrainRequest.from_json(payload)
    run_chunk = rented_gpu_runner(ctx)
    if run_chunk is None:
        ctx.set_device(resolved_device(request.device))
    outcome = train_project_voice(
        ctx.sessions,
        ctx.blobs,
        str(payload["project_id"]),
        ctx.job_id,
        request,
        float(payload["min_audio_s"]),
        ctx.progress,
        earlier_detail=ctx.job.progress_detail,
        state_key=ctx.state_key,
        chunk_steps=ctx.chunk_steps,
        save_state=ctx.save_state,
        run_chunk=run_chunk,
    )
    if outcome.model_id is None:
        raise JobContinues
    return {"model_id": outcome.model_id}


register(OTO_JOB, run_oto_job)
register(VOICEBANK_JOB, run_voicebank_job)


def rented_gpu_runner(ctx: JobContext) -> ChunkRunner | None:
    """None: train on this worker; else each chunk runs on the configured rented GPU (RunPod or Modal).

    The worker itself only waits, so its run counts as CPU time; each chunk's GPU time is what the
    endpoint reports (`wall_s`: download, training, upload), added to the job's GPU seconds as it lands.
    The worker reads its settings from VOICESTUDIO_* and .env like the server."""
    settings = StudioSettings()
    if settings.gpu_backend == "worker":
        return None
    from voicestudio.remote import open_remote_gpu
    from voicestudio.remote.chunk_runner import remote_chunk_runner
    from voicestudio.remote.contract import ChunkOutput

    gpu = open_remote_gpu(settings)
    ctx.set_device(CPU_DEVICE)

    def bill(output: ChunkOutput) -> None:
        add_gpu_seconds(ctx.sessions, ctx.job_id, output.wall_s)

    return remote_chunk_runner(gpu, keep_alive=ctx.check_cancelled, on_output=bill)


register(TRAIN_JOB, run_train_job, queue=GPU_QUEUE)
