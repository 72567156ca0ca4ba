"""What can go wrong with a job, for the user (VoicestudioError) and for the worker's own control flow."""

from voicestudio.errors import VoicestudioError


class JobError(VoicestudioError):
    """A job cannot be found, created or run; the message says what to do."""


class JobNotFound(JobError):
    """No job has the id asked for."""


class UnknownJobKind(JobError):
    """A job kind that no module registered with this worker."""


# The four below unwind a running job function. They derive from BaseException, like asyncio's
# CancelledError, so that a job's own `except Exception` cannot swallow them.


class JobCancelled(BaseException):
    """Raised by `JobContext.progress` once the user asked to cancel; the worker records `cancelled`."""


class WorkerStopping(BaseException):
    """Raised by `JobContext.progress` while the worker shuts down; the job goes back to the queue."""


class JobLost(BaseException):
    """The worker no longer holds the job (it was re-queued after a missed heartbeat); drop the work."""


class JobContinues(BaseException):
    """Raised by a job that saved its state (`JobContext.save_state`) after one chunk of its work: the job
    goes back to the queue without using an attempt, and its next run continues from that state."""
