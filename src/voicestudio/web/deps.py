"""What route functions receive: the server's Studio and a database session per request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from voicestudio.web.state import Studio


def get_studio(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def get_session(request: Request) -> Iterator[Session]:
    with get_studio(request).sessions() as session:
        yield session


StudioDep = Annotated[Studio, Depends(get_studio)]
SessionDep = Annotated[Session, Depends(get_session)]
