"""How a job handler says it failed: worth another attempt, or not.

Only ``Transient`` failures are retried (with backoff, up to the job's
maximum attempts); a ``Permanent`` one fails the job at once and keeps its
code and message for the client to read.
"""


class JobFailure(Exception):
    """A handler's failure, with a short machine-readable code and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Permanent(JobFailure):
    """Trying again would fail the same way (a 404, not an image, too large)."""


class Transient(JobFailure):
    """Trying again later may succeed (a 503, a timeout); ``retry_after`` is a server's hint."""

    def __init__(self, code: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


class ClaimLost(Exception):
    """The job's lease was taken over by another worker; this one must change nothing."""
