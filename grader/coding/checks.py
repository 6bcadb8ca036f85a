"""``rubric check`` for coding questions: the reference solution must pass every one of its tests.

A question whose own solution fails is broken data (a wrong expected value, a checker bug, limits
too tight), so it is reported like any invalid rubric file: file, field, and the failing test.
"""

from __future__ import annotations

from pathlib import Path

from grader.coding.runner import run_code
from grader.engine.rubric import Question


def reference_errors(question: Question, path: Path | str) -> list[str]:
    """One line per failing test of the reference solution (none when it passes them all)."""
    if question.coding is None:
        return []
    report = run_code(question, question.coding.reference_solution, "submit")
    where = f"{path}: coding.reference_solution"
    if report.error is not None:
        return [f"{where}: {report.error}"]
    return [
        f"{where}: fails test {outcome.number} ({outcome.name}): {outcome.message}"
        for outcome in report.outcomes
        if not outcome.passed
    ]
