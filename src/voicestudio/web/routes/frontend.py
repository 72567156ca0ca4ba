"""The static front end: index.html at `/`, its files under `/static/`, with JS and WASM MIME types."""

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from voicestudio.studio.errors import NotFound

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


def _missing_front_end(folder: Path) -> NotFound:
    return NotFound(
        f"The studio's web page is not installed ({folder} is missing). "
        "Reinstall voicestudio, or use the API at /api/docs."
    )


def mount_front_end(app: FastAPI, folder: Path) -> None:
    """Serve `folder` at `/static/` and its index.html at `/`."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        page = folder / "index.html"
        if not page.is_file():
            raise _missing_front_end(folder)
        return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})

    if folder.is_dir():
        app.mount("/static", StaticFiles(directory=folder), name="static")
    else:

        @app.get("/static/{path:path}", include_in_schema=False)
        def no_static(path: str) -> None:
            raise _missing_front_end(folder)
