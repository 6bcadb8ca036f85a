"""``mockint code run``: a solution file against a coding question's tests, in the sandbox.

For question authors and scripts. Loaded lazily by ``grader/cli.py``, like the session commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader.cli import CliError, _find_question, _read_answer
from grader.coding.runner import RunReport, run_code
from grader.engine.loader import load_available

EXIT_FAILED = 1


@click.group()
def code() -> None:
    """Run solutions to coding questions against their tests, in the sandbox (see docs/sandbox.md)."""


@code.command("run")
@click.argument("question_id", metavar="QUESTION")
@click.option("--file", "-f", "file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The solution: a Python file defining the question's function.")
@click.option("--examples", "examples_only", is_flag=True, help="Run the public examples only (default: every test).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def run(question_id: str, file: Path, examples_only: bool, as_json: bool) -> None:
    """Run FILE against QUESTION's tests in the sandbox and print a per-test table.

    Exit 0 when every test passes, 1 when any fails (wrong answer, error, time or memory limit,
    crash), 2 on bad input (unknown question, unreadable file).
    """
    _, question = _find_question(question_id, "QUESTION")  # a broken pack elsewhere is only a warning
    packs, _ = load_available()
    if question.coding is None:
        coding_ids = [qid for loaded in packs for qid, q in loaded.questions.items() if q.coding is not None]
        raise CliError(f"QUESTION: {question_id} is not a coding question; coding questions: "
                             f"{', '.join(coding_ids) or 'none'}")
    source = _read_answer(file)  # the same checks as an answer file: exists, size, UTF-8
    report = run_code(question, source, "examples" if examples_only else "submit")
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report)
    sys.exit(0 if report.all_passed else EXIT_FAILED)


def print_report(report: RunReport) -> None:
    """The per-test table (inputs of public tests only), then one summary line."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    table = Table(box=box.SIMPLE_HEAD, title=f"{report.question_id}: {report.kind}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Test")
    table.add_column("Result")
    table.add_column("Time", justify="right")
    table.add_column("Input")
    table.add_column("Detail")
    for outcome in report.outcomes:
        style = "green" if outcome.passed else ("dim" if outcome.status == "not-run" else "red")
        time_text = f"{outcome.runtime_ms:.1f} ms" if outcome.runtime_ms is not None else "–"
        table.add_row(str(outcome.number), escape(outcome.name), f"[{style}]{outcome.status_word}[/]", time_text,
                      escape(outcome.input or ("(hidden)" if not outcome.public else "")), escape(outcome.message))
    console.print(table)
    if report.output.strip():
        console.print("[dim]printed outside the tests:[/] " + escape(report.output.strip()[:500]))
    colour = "green" if report.all_passed else "red"
    console.print(f"[{colour} bold]{escape(report.summary)}[/]")
