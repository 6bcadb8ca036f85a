"""The data of a coding question: the function to write, its tests, limits and reference solution.

A coding question is an ordinary rubric question (its prompt states the problem, its points are
what a strong talk-through says about approach, complexity, edge cases and follow-ups) with a
``coding`` block. The block is data, validated here like the rest of the rubric; running code is
``grader.coding``'s job, never the engine's.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Source = Annotated[str, StringConstraints(min_length=1)]

MAX_TIME_LIMIT_SECONDS = 10.0
MAX_MEMORY_LIMIT_MB = 1024
MIN_MEMORY_LIMIT_MB = 64
"""Below this the Python interpreter itself does not start."""

Comparison = Literal["exact", "unordered", "close"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodingTest(_Strict):
    """One call of the candidate's function: positional arguments and what it must return."""

    name: str | None = Field(default=None, description="Short label shown in the results table.")
    args: list[Any] = Field(description="Positional arguments, as JSON data (lists, numbers, strings).")
    expected: Any = Field(description="The right return value (or, with a checker, one right value).")
    explanation: str | None = Field(default=None, description="Why this is the answer; shown for public examples.")


class CodingSpec(_Strict):
    """What the candidate writes and how it is judged."""

    language: Literal["python"] = "python"
    function: Identifier = Field(description="Name of the function the candidate defines.")
    signature: str = Field(min_length=1, description="The function's signature, as shown in the prompt.")
    starter_code: Source = Field(description="What the editor holds at the start.")
    reference_solution: Source = Field(description="A correct solution; `rubric check` runs it against every test.")
    compare: Comparison = Field(
        default="exact",
        description=(
            "How a return value is judged: exact equality, unordered (same items in any order), "
            "or close (numbers within `tolerance`, element by element)."
        ),
    )
    tolerance: float = Field(default=1e-6, gt=0, le=1, description="For compare: close.")
    checker: Source | None = Field(
        default=None,
        description=(
            "Python source defining `check(args, expected, actual) -> str | None`: None when `actual` "
            "is right, else a one-line reason. For answers with several right forms; replaces `compare`."
        ),
    )
    time_limit_seconds: float = Field(default=2.0, gt=0, le=MAX_TIME_LIMIT_SECONDS,
                                      description="CPU time allowed per test.")
    memory_limit_mb: int = Field(default=256, ge=MIN_MEMORY_LIMIT_MB, le=MAX_MEMORY_LIMIT_MB,
                                 description="Address space allowed for the whole run.")
    examples: list[CodingTest] = Field(min_length=1, description="Public tests: shown in the prompt, run with F5.")
    tests: list[CodingTest] = Field(min_length=1, description="Hidden tests: run on submit; inputs are not shown.")
    talk_through: str = Field(
        min_length=1,
        description="What the interviewer asks after the submission; the answer is graded against the points.",
    )

    @field_validator("function")
    @classmethod
    def _not_keyword(cls, value: str) -> str:
        if keyword.iskeyword(value):
            raise ValueError(f"{value!r} is a Python keyword")
        return value

    @field_validator("starter_code", "reference_solution", "checker")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compile(value, "<rubric>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise ValueError(f"not valid Python (line {exc.lineno}: {exc.msg})") from None
        return value

    @model_validator(mode="after")
    def _check_shape(self) -> CodingSpec:
        for where, source in (("starter_code", self.starter_code), ("reference_solution", self.reference_solution)):
            if f"def {self.function}(" not in source:
                raise ValueError(f"{where} does not define {self.function}()")
        if self.checker is not None and "def check(" not in self.checker:
            raise ValueError("checker does not define check(args, expected, actual)")
        return self

    @property
    def all_tests(self) -> list[CodingTest]:
        """Examples first, then the hidden tests: what a submission runs."""
        return [*self.examples, *self.tests]
