"""`voicestudio serve`: the web studio on this machine, with its database, files and worker in one folder."""

import logging
from pathlib import Path

import uvicorn

from voicestudio.db.migrate import upgrade_database
from voicestudio.web.app import create_app
from voicestudio.web.settings import StudioSettings

LOG_FORMAT = "%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s"


def serve_studio(host: str, port: int, data_dir: Path) -> None:
    """Run the studio until Ctrl-C; the database is checked first, so a bad data folder is one message."""
    settings = StudioSettings(data_dir=data_dir)
    upgrade_database(settings.resolved_database_url)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
