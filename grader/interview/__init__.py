"""The interview as a plain state machine, and the end-of-interview report. No terminal, no SQL."""

from grader.interview.interview import (
    DEFAULT_MAX_PROBES,
    MODES,
    Answered,
    Interview,
    PendingAnswer,
    ResumeError,
    Step,
)

__all__ = ["DEFAULT_MAX_PROBES", "MODES", "Answered", "Interview", "PendingAnswer", "ResumeError", "Step"]
