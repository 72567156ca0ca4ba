"""Errors that speak to the user: each message says what is wrong and what to do about it."""


class VoicestudioError(Exception):
    """Base of every error whose message is meant for the person using the studio."""

    @property
    def message(self) -> str:
        return str(self)
