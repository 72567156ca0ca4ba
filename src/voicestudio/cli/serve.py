"""`voicestudio serve`: the web studio, set up by flags, then `VOICESTUDIO_*` variables, `.env`, defaults.

With nothing set it is a one-machine studio: database, files and worker in the `data` folder.
"""

from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError
from typer import BadParameter

from voicestudio.errors import VoicestudioError
from voicestudio.logs import configure_logging
from voicestudio.settings import ENV_PREFIX, StudioSettings

PROBLEMS_SHOWN = 3


class SettingsError(VoicestudioError):
    """A setting from a flag, the environment or `.env` cannot be used; the message names it."""


def load_settings(**flags: Any) -> StudioSettings:
    """Settings with the flags given (None: not given) over `VOICESTUDIO_*`, `.env` and the defaults."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return StudioSettings(**given)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:PROBLEMS_SHOWN]:
        field = ".".join(str(part) for part in item.get("loc", ()))
        where = f"{ENV_PREFIX}{field.upper()}" if field else "the settings"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    more = error.error_count() - PROBLEMS_SHOWN
    if more > 0:
        problems.append(f"and {more} more")
    return (
        f"The studio's settings are not valid: {'; '.join(problems)}. "
        "Fix them in the flags, the environment or .env (see docs/settings.md)."
    )


def serve_studio(
    host: str, port: int, data_dir: Path | None = None, min_training_audio_s: float | None = None
) -> None:
    """Run the studio until Ctrl-C; the database is checked first, so a bad data folder is one message."""
    if min_training_audio_s is not None and min_training_audio_s < 0:
        raise BadParameter(f"--min-training-audio-s is {min_training_audio_s}; use 0 or more seconds.")
    settings = load_settings(data_dir=data_dir, min_training_audio_s=min_training_audio_s)
    configure_logging(settings)
    # Imported once logging is set up, so that what they say on import is in the configured format too.
    from voicestudio.db.migrate import upgrade_database
    from voicestudio.web.app import create_app

    upgrade_database(settings.resolved_database_url)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # configure_logging's handler formats uvicorn's lines too (text or JSON)
        log_level=settings.log_level.lower(),
    )
