"""What a studio request can get wrong, in words that say what to do."""

from voicestudio.errors import VoicestudioError


class StudioError(VoicestudioError):
    """A request the studio cannot carry out as asked; the message says what to change."""


class NotFound(StudioError):
    """No project, take, prompt, oto line or voicebank has the id asked for."""


class NothingToDo(StudioError):
    """A step whose inputs are not there yet (no takes to align, no oto lines to package)."""


class OtoOrderError(StudioError):
    """An edited oto line whose times break UTAU's order or reach outside its recording."""
