"""`voicestudio serve`: the web studio on this machine, with its database, files and worker in one folder."""

import logging
from pathlib import Path

import uvicorn
from typer import BadParameter

from voicestudio.db.migrate import upgrade_database
from voicestudio.web.app import create_app
from voicestudio.web.settings import StudioSettings

LOG_FORMAT = "%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s"


def serve_studio(host: str, port: int, data_dir: Path, min_training_audio_s: float = 60.0) -> None:
    """Run the studio until Ctrl-C; the database is checked first, so a bad data folder is one message."""
    if min_training_audio_s < 0:
        raise BadParameter(f"--min-training-audio-s is {min_training_audio_s}; use 0 or more seconds.")
    settings = StudioSettings(data_dir=data_dir, min_training_audio_s=min_training_audio_s)
    upgrade_database(settings.resolved_database_url)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
