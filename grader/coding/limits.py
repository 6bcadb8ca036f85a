"""The sandbox's limits, in one table (codejail keeps its limits the same way).

The per-question numbers (CPU time per test, memory) come from the question's ``coding`` block;
everything else is fixed here so a reviewer sees every limit in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MEBIBYTE = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds_per_test: float = 2.0
    """CPU time one test may use; a test that used more fails as a timeout even if it finished."""
    wall_factor: float = 3.0
    """Wall-clock allowance per test, as a multiple of its CPU time (the machine may be busy)."""
    wall_slack_seconds: float = 2.0
    """Added to every wall-clock allowance, and the allowance for loading the solution."""
    memory_bytes: int = 256 * MEBIBYTE
    """Address space of the whole process (RLIMIT_AS): the interpreter, the code and its data."""
    output_bytes: int = 1 * MEBIBYTE
    """Standard output plus error the process may write; past it the run is stopped."""
    kept_output_bytes: int = 8 * 1024
    """Of that output, what is kept to show."""
    result_bytes: int = 16 * MEBIBYTE
    """Bytes of results (return values) the harness may send back."""
    file_size_bytes: int = 1 * MEBIBYTE
    """Largest file the code may write in its working directory (RLIMIT_FSIZE)."""
    open_files: int = 32
    processes: int = 0
    """RLIMIT_NPROC: no new processes or threads (root ignores it; the system-call filter does not)."""

    def cpu_budget_seconds(self, tests: int) -> int:
        """The process-wide CPU limit: every test's allowance plus loading; the watchdog acts first."""
        return int(self.cpu_seconds_per_test * (tests + 1)) + 1

    def wall_seconds_per_test(self) -> float:
        return self.cpu_seconds_per_test * self.wall_factor + self.wall_slack_seconds

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)
