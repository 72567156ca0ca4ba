"""Every failure as `{"error": message}`: the user's own message for known errors, an id for the rest."""

import logging
import uuid
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicestudio.align.reference import ReferenceUnavailable
from voicestudio.db.engine import DatabaseError
from voicestudio.errors import VoicestudioError
from voicestudio.jobs.errors import JobNotFound
from voicestudio.storage.blobs import BlobNotFound, BlobTooLarge, StorageError
from voicestudio.studio.accounts import CsrfRejected, EmailTaken, NotSignedIn, WrongCredentials
from voicestudio.studio.errors import NotFound, NothingToDo
from voicestudio.studio.plans import PlanLimit, PlansFileError
from voicestudio.text.errors import UnknownPromptSet

_LOG = logging.getLogger("voicestudio.web")

NOT_FOUND_ERRORS: Final = (NotFound, JobNotFound, BlobNotFound, UnknownPromptSet)
UNAVAILABLE_ERRORS: Final = (DatabaseError, ReferenceUnavailable, StorageError, PlansFileError)
NOT_SIGNED_IN_ERRORS: Final = (NotSignedIn, WrongCredentials)
VALIDATION_ERRORS_SHOWN: Final = 3


def status_for(error: VoicestudioError) -> int:
    """HTTP status of a known error: 401 not signed in, 402 past the plan, 403 no CSRF token, 404 missing,
    409 not ready or taken, 413 too large, 503 server side, else 422."""
    if isinstance(error, NOT_SIGNED_IN_ERRORS):
        return 401
    if isinstance(error, PlanLimit):
        return 402
    if isinstance(error, CsrfRejected):
        return 403
    if isinstance(error, EmailTaken):
        return 409
    if isinstance(error, BlobTooLarge):
        return 413
    if isinstance(error, NOT_FOUND_ERRORS):
        return 404
    if isinstance(error, NothingToDo):
        return 409
    if isinstance(error, UNAVAILABLE_ERRORS):
        return 503
    return 422


def error_response(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


async def _studio_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, VoicestudioError)
    response = error_response(status_for(error), error.message)
    if isinstance(error, NotSignedIn):
        response.headers["WWW-Authenticate"] = 'Bearer realm="voicestudio"'
    return response


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404 and error.detail == "Not Found":
        message = f"There is nothing at {request.url.path}. Check the address."
    elif error.status_code == 400 and error.detail == "There was an error parsing the body":
        message = "The request body is not valid JSON. Send a JSON object as the API documentation shows."
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}. Check the API documentation."
    else:
        message = str(error.detail)
    return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors()[:VALIDATION_ERRORS_SHOWN]:
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "the request"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    more = len(error.errors()) - VALIDATION_ERRORS_SHOWN
    if more > 0:
        problems.append(f"and {more} more")
    return error_response(422, f"The request is not valid: {'; '.join(problems)}. Fix it and send it again.")


def install_error_handlers(app: FastAPI) -> None:
    """Known errors, HTTP errors and invalid requests become `{"error": ...}` with their status."""
    app.add_exception_handler(VoicestudioError, _studio_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class InternalErrors:
    """ASGI middleware: an unexpected exception becomes 500 `internal error, id …`, its traceback logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            _LOG.exception("internal error %s on %s %s", incident, scope.get("method"), scope.get("path"))
            if started:
                raise
            message = f"internal error, id {incident}. Try again; if it keeps happening, report the id."
            await error_response(500, message)(scope, receive, tracking_send)
