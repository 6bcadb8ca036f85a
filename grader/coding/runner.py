"""Run a candidate's code against a coding question's tests and judge every return value.

``run_code`` is what the CLI (``mockint code run``), ``rubric check`` (the reference solution) and
the TUI (run examples, submit) all call. The verdicts are decided here, in mockint's process, from
the JSON the sandbox sent back; the expected values never enter the sandbox.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from grader.coding.limits import MEBIBYTE, SandboxLimits
from grader.coding.sandbox import RawResult, SandboxRun, run_function
from grader.engine.coding import CodingSpec, CodingTest
from grader.engine.rubric import Question

RunKind = Literal["examples", "submit"]
PASSED = "passed"
FAILED = "failed"  # a wrong return value
NOT_RUN = "not-run"
STATUS_WORDS = {
    PASSED: "pass",
    FAILED: "wrong answer",
    "error": "error",
    "timeout": "time limit",
    "memory": "memory limit",
    "output": "output limit",
    "crashed": "crashed",
    NOT_RUN: "not run",
}
SHOWN_VALUE_CHARS = 200


def format_ms(milliseconds: float) -> str:
    """A run time as people read it: one decimal below 10 ms (a fast solution is not "0 ms")."""
    return f"{milliseconds:.1f} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"


def limits_for(spec: CodingSpec) -> SandboxLimits:
    return SandboxLimits(cpu_seconds_per_test=spec.time_limit_seconds, memory_bytes=spec.memory_limit_mb * MEBIBYTE)


@dataclass(frozen=True)
class CaseOutcome:
    """One test's verdict, with what may be shown: inputs and values for public tests only."""

    number: int
    """1-based position in the run."""
    name: str
    public: bool
    status: str
    """``passed``, ``failed`` (wrong answer), ``error``, ``timeout``, ``memory``, ``output``,
    ``crashed`` or ``not-run``."""
    message: str
    """One plain line: why it failed (empty when it passed)."""
    runtime_ms: float | None
    input: str | None = None
    expected: str | None = None
    actual: str | None = None
    printed: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass(frozen=True)
class RunReport:
    question_id: str
    kind: RunKind
    outcomes: list[CaseOutcome]
    error: str | None = None
    """Why no test ran, in one line (a syntax error, a crash while loading, a limit), or None."""
    wall_seconds: float = 0.0
    protections: dict[str, bool] = field(default_factory=dict)
    output: str = ""

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def passed(self) -> int:
        return sum(outcome.passed for outcome in self.outcomes)

    @property
    def all_passed(self) -> bool:
        return self.error is None and self.total > 0 and self.passed == self.total

    @property
    def runtime_ms(self) -> float:
        """Time spent in the candidate's function, summed over the tests that ran."""
        return sum(outcome.runtime_ms or 0.0 for outcome in self.outcomes)

    @property
    def first_failure(self) -> CaseOutcome | None:
        return next((outcome for outcome in self.outcomes if not outcome.passed), None)

    @property
    def summary(self) -> str:
        """One line: how many passed, or the first failure."""
        what = "examples" if self.kind == "examples" else "tests"
        if self.error is not None:
            return f"0/{self.total} {what} ran: {self.error}"
        if self.all_passed:
            return f"{self.passed}/{self.total} {what} passed in {format_ms(self.runtime_ms)}"
        first = self.first_failure
        assert first is not None
        visibility = "" if first.public else " (hidden)"
        return f"{self.passed}/{self.total} {what} passed; test {first.number}{visibility}: {first.message}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(total=self.total, passed=self.passed, all_passed=self.all_passed,
                    runtime_ms=round(self.runtime_ms, 3), summary=self.summary)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        outcomes = [CaseOutcome(**item) for item in data["outcomes"]]
        return cls(question_id=data["question_id"], kind=data["kind"], outcomes=outcomes, error=data.get("error"),
                   wall_seconds=data.get("wall_seconds", 0.0), protections=data.get("protections", {}),
                   output=data.get("output", ""))


def run_code(question: Question, source: str, kind: RunKind = "submit",
             limits: SandboxLimits | None = None) -> RunReport:
    """Run ``source`` on the examples (``examples``) or on every test (``submit``) and judge it."""
    spec = question.coding
    if spec is None:
        raise ValueError(f"{question.id} is not a coding question")
    tests = list(spec.examples) if kind == "examples" else spec.all_tests
    public = len(spec.examples)
    raw = run_function(source, spec.function, [list(test.args) for test in tests], limits or limits_for(spec))
    if raw.error is not None:
        for result in raw.results:
            result.message = "–"  # the run's one error line says why; no per-test repetition
    outcomes = [
        _judge(spec, test, result, number=index + 1, public=index < public, limits=limits or limits_for(spec))
        for index, (test, result) in enumerate(zip(tests, raw.results, strict=True))
    ]
    return RunReport(question_id=question.id, kind=kind, outcomes=outcomes, error=raw.error,
                     wall_seconds=round(raw.wall_seconds, 3), protections=raw.protections,
                     output=_run_output(raw))


def _run_output(raw: SandboxRun) -> str:
    if raw.output_size > len(raw.output.encode()):
        return raw.output + f"\n… ({raw.output_size:,} bytes in all)"
    return raw.output


def _judge(spec: CodingSpec, test: CodingTest, result: RawResult, *, number: int, public: bool,
           limits: SandboxLimits) -> CaseOutcome:
    name = test.name or (f"example {number}" if public else f"hidden {number}")
    actual: Any = None
    status, message = result.status, result.message
    if status == "returned":
        actual = json.loads(result.value or "null")
        reason = check_value(spec, test, actual)
        if reason is None:
            status, message = PASSED, ""
        else:
            status = FAILED
            message = _wrong_message(test, actual, reason, result, public)
    elif status == "memory":
        message = f"ran out of memory (limit {limits.memory_bytes // MEBIBYTE} MB)"
    elif status == NOT_RUN and not message:
        message = "not run (an earlier failure stopped the run)"
    return CaseOutcome(
        number=number,
        name=name,
        public=public,
        status=status,
        message=message,
        runtime_ms=result.wall_ms,
        input=_shown_args(spec, test) if public else None,
        expected=_shown(test.expected) if public else None,
        actual=_shown(actual) if public and result.status == "returned" else None,
        printed=(result.printed or None) if public else None,
    )


def _wrong_message(test: CodingTest, actual: Any, reason: str, result: RawResult, public: bool) -> str:
    if actual is None and result.printed_size:
        return "returned None but printed output: return the answer instead of printing it"
    if public:
        return f"expected {_shown(test.expected)}, got {_shown(actual)}" + (f" ({reason})" if reason else "")
    return f"wrong answer on a hidden test{': ' + reason if reason else ''}"


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


def _shown_args(spec: CodingSpec, test: CodingTest) -> str:
    return ", ".join(_shown(arg) for arg in test.args)


# -- judging return values ----------------------------------------------------------------------------


def check_value(spec: CodingSpec, test: CodingTest, actual: Any) -> str | None:
    """None when ``actual`` is right; else a short reason ("" when plain inequality says it all)."""
    if spec.checker is not None:
        return _run_checker(spec.checker, test, actual)
    if spec.compare == "unordered":
        if not isinstance(actual, list):
            return f"returned a {_json_type(actual)}, not a list"
        if not isinstance(test.expected, list):
            return ""
        return None if _multiset(actual) == _multiset(test.expected) else "items differ (order does not matter)"
    if spec.compare == "close":
        return None if _close(actual, test.expected, spec.tolerance) else f"not within {spec.tolerance:g}"
    return None if _same(actual, test.expected) else ""


def _run_checker(source: str, test: CodingTest, actual: Any) -> str | None:
    """The pack's own checker (trusted rubric content, not the candidate's code) on plain JSON data."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "<checker>", "exec", dont_inherit=True), namespace)
    try:
        verdict = namespace["check"](json.loads(json.dumps(test.args)), test.expected, actual)
    except Exception as exc:  # a checker bug must read as one, not as the candidate's failure
        return f"the question's checker failed ({type(exc).__name__}: {exc}); report it to the pack's author"
    return None if verdict is None else str(verdict)


def _json_type(value: Any) -> str:
    return {dict: "dict", list: "list", str: "string", bool: "boolean", type(None): "None"}.get(
        type(value), "number")


def _multiset(items: list[Any]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def _same(actual: Any, expected: Any) -> bool:
    # True == 1 in Python; a boolean where a number was expected (or the reverse) is still wrong.
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)


def _close(actual: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(
            _close(a, e, tolerance) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)
