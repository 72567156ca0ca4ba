"""Projects: a voice being made, the prompt sets it records, and how far the recording has come."""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from voicestudio.db.models import JobRow, ProjectRow, new_id
from voicestudio.db.types import utc_now
from voicestudio.domain import Language
from voicestudio.domain.jobs import JobState
from voicestudio.studio.catalog import checked_prompt_sets, prompt_key
from voicestudio.studio.errors import StudioError
from voicestudio.studio.gc import project_blob_keys
from voicestudio.studio.rows import LOCAL_OWNER, current_takes, owned_project_row, project_row
from voicestudio.studio.takes import TakeInfo, take_info
from voicestudio.text.prompts import load_prompt_set

NAME_MAX_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """A project and its progress: prompts with a usable current take (`recorded`) of all (`total`)."""

    id: str
    name: str
    language: Language
    prompt_sets: tuple[str, ...]
    recorded: int
    total: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PromptState:
    """One prompt of a project and the take it uses now, if any."""

    prompt_set: str
    prompt_id: str
    text: str
    reading: str
    wav_name: str
    take: TakeInfo | None


def create_project(
    session: Session, name: str, language: Language, prompt_sets: list[str], owner: str = LOCAL_OWNER
) -> ProjectInfo:
    """A new, empty project of `owner`; StudioError for a blank name or prompt sets of another language."""
    clean = name.strip()
    if not clean:
        raise StudioError("A project needs a name. Type one, e.g. the voice's name.")
    if len(clean) > NAME_MAX_CHARS:
        raise StudioError(f"The project name is {len(clean)} characters long; keep it to {NAME_MAX_CHARS}.")
    sets = checked_prompt_sets(prompt_sets, language)
    row = ProjectRow(
        id=new_id(),
        owner=owner,
        name=clean,
        language=language.value,
        prompt_sets=[s.name for s in sets],
        created_at=utc_now(),
    )
    with session.begin():
        session.add(row)
    return _info(row, recorded=0)


def list_projects(session: Session, owner: str = LOCAL_OWNER) -> list[ProjectInfo]:
    """Every project of `owner`, newest first."""
    query = (
        select(ProjectRow)
        .where(ProjectRow.owner == owner)
        .order_by(ProjectRow.created_at.desc(), ProjectRow.id)
    )
    rows = session.scalars(query).all()
    return [_info(row, recorded=len(current_takes(session, row.id))) for row in rows]


def delete_project(session: Session, project_id: str, owner: str) -> set[str]:
    """Delete `owner`'s project with its takes, oto lines, voicebanks, models and consents.

    Its jobs stay, without the project, so the GPU time they used still counts in the owner's usage and
    costs; a queued one is cancelled, a running one asked to stop, and their saved training state is
    let go. Returns the blob keys its rows referenced, for garbage collection; NotFound for someone else's.
    """
    owned_project_row(session, project_id, owner)
    keys = project_blob_keys(session, project_id)
    now = utc_now()
    of_project = update(JobRow).where(JobRow.project_id == project_id)
    bumped = {"version": JobRow.version + 1, "updated_at": now}
    session.execute(
        of_project.where(JobRow.state == JobState.queued.value).values(
            state=JobState.cancelled.value, finished_at=now, **bumped
        )
    )
    session.execute(
        of_project.where(JobRow.state == JobState.running.value).values(cancel_requested=True, **bumped)
    )
    session.execute(of_project.values(state_key=None))
    session.execute(delete(ProjectRow).where(ProjectRow.id == project_id, ProjectRow.owner == owner))
    session.commit()
    return keys


def get_project(session: Session, project_id: str) -> tuple[ProjectInfo, list[PromptState]]:
    """The project and every prompt it records, in set order, each with its current take."""
    row = project_row(session, project_id)
    takes = current_takes(session, project_id)
    states = [
        PromptState(
            prompt_set=name,
            prompt_id=prompt.id,
            text=prompt.text,
            reading=prompt.reading,
            wav_name=prompt.wav_name,
            take=take_info(takes[key]) if (key := prompt_key(name, prompt.id)) in takes else None,
        )
        for name in row.prompt_sets
        for prompt in load_prompt_set(name).prompts
    ]
    return _info(row, recorded=sum(state.take is not None for state in states)), states


def _info(row: ProjectRow, recorded: int) -> ProjectInfo:
    """A current take is never a failed one (see `add_take`), so every current take counts as recorded."""
    return ProjectInfo(
        id=row.id,
        name=row.name,
        language=Language(row.language),
        prompt_sets=tuple(row.prompt_sets),
        recorded=recorded,
        total=sum(len(load_prompt_set(name)) for name in row.prompt_sets),
        created_at=row.created_at,
    )
