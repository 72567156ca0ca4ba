"""The JSON the API speaks (see the web API contract), and how the studio's values become it."""

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from voicestudio.domain import Language, PromptSet, Verdict
from voicestudio.domain.jobs import Job
from voicestudio.studio.consent import ConsentInfo
from voicestudio.studio.oto import OtoLine
from voicestudio.studio.plans import Plan, Usage, gpu_minutes_left
from voicestudio.studio.projects import ProjectInfo, PromptState
from voicestudio.studio.takes import TakeInfo, TakeOutcome
from voicestudio.studio.voices import TrainingReadiness

VerdictName = Literal["pass", "warn", "fail"]
_VERDICT_NAMES: dict[Verdict, VerdictName] = {Verdict.ok: "pass", Verdict.warn: "warn", Verdict.fail: "fail"}


class ErrorOut(BaseModel):
    error: str = Field(description="What is wrong and what to do about it.")


class HealthOut(BaseModel):
    ok: bool
    version: str


class PromptSetSummaryOut(BaseModel):
    name: str
    title: str
    language: Language
    kind: str
    prompt_count: int


class PromptOut(BaseModel):
    id: str
    text: str
    reading: str
    phonemes: list[str]
    wav_name: str


class PromptSetOut(BaseModel):
    name: str
    title: str
    language: Language
    kind: str
    prompts: list[PromptOut]


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    language: Language
    prompt_sets: list[str]


class ProjectOut(BaseModel):
    id: str
    name: str
    language: Language
    prompt_sets: list[str]
    recorded: int = Field(description="Prompts with a current take (pass or warn).")
    total: int
    created_at: datetime


class TakeOut(BaseModel):
    id: str
    prompt_set: str
    prompt_id: str
    wav_name: str
    sample_rate_hz: int
    duration_ms: float
    verdict: VerdictName
    reasons: list[str]
    report: dict[str, float | int | None]
    created_at: datetime


class PromptStateOut(BaseModel):
    prompt_set: str
    prompt_id: str
    text: str
    reading: str
    wav_name: str
    take: TakeOut | None


class ProjectDetailOut(ProjectOut):
    prompts: list[PromptStateOut]


class TakeUploadOut(BaseModel):
    take: TakeOut
    current: bool = Field(description="Whether the take is now the prompt's current take.")


class JobOut(BaseModel):
    id: str
    kind: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    fraction: float
    stage: str
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    detail: dict[str, Any] | None = Field(
        default=None,
        description="Kind-specific progress; for train: step, total_steps, epoch, losses, seconds_per_step, "
        "eta_s, history (the last 500 steps), device, checkpoint_step, training_time_s.",
    )


class JobRefOut(BaseModel):
    job: JobOut


class OtoLineOut(BaseModel):
    id: str
    wav_name: str
    alias: str
    offset_ms: float
    consonant_ms: float
    cutoff_ms: float
    preutterance_ms: float
    overlap_ms: float
    confidence: float
    note: str
    edited: bool
    take_id: str | None
    duration_ms: float | None


class OtoLinesOut(BaseModel):
    lines: list[OtoLineOut]


class OtoTimesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset_ms: float
    consonant_ms: float
    cutoff_ms: float
    preutterance_ms: float
    overlap_ms: float


class ConsentSentenceOut(BaseModel):
    language: Language
    sentence: str


class ConsentOut(BaseModel):
    id: str
    sentence: str
    duration_ms: float
    created_at: datetime


class ConsentUploadOut(BaseModel):
    consent: ConsentOut


class TrainingReadinessOut(BaseModel):
    ready: bool
    have_s: float = Field(description="Seconds of sentence speech the voice would learn from.")
    needed_s: float
    consent: bool
    sentence: str = Field(description="The consent statement to read aloud.")
    message: str = Field(description="What is missing, in words; or that training can start.")


class BaseCheckpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str = Field(min_length=1, description="A .ckpt path on the server, or an http(s) URL.")
    sha256: str


class VoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: Literal["tiny", "medium"] = "medium"
    steps: int = Field(default=2000, ge=1, le=10_000_000)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    base: BaseCheckpointIn | None = None
    checkpoint_every_steps: int = Field(default=100, ge=1, description="Write a checkpoint this often.")


class VoicebankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    encoding: Literal["shift_jis", "utf-8"] | None = None


def prompt_set_summary_out(prompt_set: PromptSet) -> PromptSetSummaryOut:
    return PromptSetSummaryOut(
        name=prompt_set.name,
        title=prompt_set.title,
        language=prompt_set.language,
        kind=prompt_set.kind.value,
        prompt_count=len(prompt_set),
    )


def prompt_set_out(prompt_set: PromptSet) -> PromptSetOut:
    return PromptSetOut(
        name=prompt_set.name,
        title=prompt_set.title,
        language=prompt_set.language,
        kind=prompt_set.kind.value,
        prompts=[
            PromptOut(id=p.id, text=p.text, reading=p.reading, phonemes=list(p.phonemes), wav_name=p.wav_name)
            for p in prompt_set.prompts
        ],
    )


def project_out(project: ProjectInfo) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        name=project.name,
        language=project.language,
        prompt_sets=list(project.prompt_sets),
        recorded=project.recorded,
        total=project.total,
        created_at=project.created_at,
    )


def project_detail_out(project: ProjectInfo, prompts: list[PromptState]) -> ProjectDetailOut:
    return ProjectDetailOut(
        **project_out(project).model_dump(),
        prompts=[
            PromptStateOut(
                prompt_set=state.prompt_set,
                prompt_id=state.prompt_id,
                text=state.text,
                reading=state.reading,
                wav_name=state.wav_name,
                take=take_out(state.take) if state.take is not None else None,
            )
            for state in prompts
        ],
    )


def take_out(take: TakeInfo) -> TakeOut:
    return TakeOut(
        id=take.id,
        prompt_set=take.prompt_set,
        prompt_id=take.prompt_id,
        wav_name=take.wav_name,
        sample_rate_hz=take.sample_rate_hz,
        duration_ms=take.duration_ms,
        verdict=_VERDICT_NAMES[take.verdict],
        reasons=list(take.reasons),
        report=dict(take.report),
        created_at=take.created_at,
    )


def upload_out(outcome: TakeOutcome) -> TakeUploadOut:
    return TakeUploadOut(take=take_out(outcome.take), current=outcome.current)


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state.value,
        fraction=job.progress_fraction,
        stage=job.progress_stage,
        error=job.error_message,
        result=job.result,
        attempts=job.attempts,
        detail=job.progress_detail,
    )


def line_out(line: OtoLine) -> OtoLineOut:
    return OtoLineOut(
        id=line.id,
        wav_name=line.wav_name,
        alias=line.alias,
        offset_ms=line.offset_ms,
        consonant_ms=line.consonant_ms,
        cutoff_ms=line.cutoff_ms,
        preutterance_ms=line.preutterance_ms,
        overlap_ms=line.overlap_ms,
        confidence=line.confidence,
        note=line.note,
        edited=line.edited,
        take_id=line.take_id,
        duration_ms=line.duration_ms,
    )


def consent_out(consent: ConsentInfo) -> ConsentOut:
    return ConsentOut(
        id=consent.id,
        sentence=consent.sentence,
        duration_ms=consent.duration_ms,
        created_at=consent.created_at,
    )


def readiness_out(readiness: TrainingReadiness) -> TrainingReadinessOut:
    return TrainingReadinessOut(
        ready=readiness.ready,
        have_s=readiness.have_s,
        needed_s=readiness.needed_s,
        consent=readiness.consent,
        sentence=readiness.sentence,
        message=readiness.message,
    )


# An upload route's body is the raw WAV (streamed, not a form), and what it may answer besides success.
WAV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
    }
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut},
    422: {"model": ErrorOut},
    404: {"model": ErrorOut},
}


# --- accounts, plans and usage ---------------------------------------------------------------------


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024, description="At least 8 characters.")


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class DeleteAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=1024, description="Your current password, to confirm.")


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the domain object

    name: str
    title: str
    max_projects: int | None = Field(description="None: no limit.")
    storage_bytes: int | None = Field(description="None: no limit.")
    neural_training: bool
    gpu_minutes_month: float | None = Field(description="None: no limit.")


class UsageOut(BaseModel):
    projects: int
    storage_bytes: int = Field(description="Stored files of yours, until unused ones are collected.")
    gpu_minutes_used: float = Field(description="GPU minutes your jobs used since the 1st (UTC).")
    gpu_minutes_left: float | None = Field(
        description="What the plan still allows this month; None: no limit."
    )


class AccountOut(BaseModel):
    accounts: bool = Field(description="False: the studio runs without accounts, for one local user.")
    email: str | None
    plan: PlanOut
    usage: UsageOut
    gpu_price_per_hour_usd: float
    csrf_token: str | None = Field(
        description="Send it as X-CSRF-Token with every POST/PUT/PATCH/DELETE signed by the session cookie."
    )


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="voicestudio CLI", min_length=1, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the domain object

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown this once: send it as 'Authorization: Bearer <token>'.")


class TrainingCostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read straight from the domain object

    job_id: str
    project_id: str | None
    project_name: str | None
    state: str
    device: str | None
    run_s: float
    gpu_s: float
    cost_usd: float = Field(description="gpu_s / 3600 × the studio's price per GPU-hour.")
    created_at: datetime


class UsageDetailOut(BaseModel):
    plan: PlanOut
    usage: UsageOut
    gpu_price_per_hour_usd: float
    trainings: list[TrainingCostOut] = Field(description="Your newest trainings and what each cost.")


PLAN_RESPONSES: dict[int | str, dict[str, Any]] = {402: {"model": ErrorOut}}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}}
REDIRECT_RESPONSE: Final[dict[str, Any]] = {"description": "The file's download URL (S3 storage)"}
API_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not what the route reads (e.g. not JSON)"},
    **AUTH_RESPONSES,
    404: {"model": ErrorOut, "description": "No such thing, or not yours"},
    422: {"model": ErrorOut, "description": "A parameter or the body is not valid"},
}  # what every API route may answer besides its own responses


def usage_out(plan: Plan, usage: Usage) -> UsageOut:
    return UsageOut(
        projects=usage.projects,
        storage_bytes=usage.storage_bytes,
        gpu_minutes_used=usage.gpu_minutes_month,
        gpu_minutes_left=gpu_minutes_left(plan, usage),
    )
