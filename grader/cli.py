"""The ``mockint`` command: interview practice, grading, rubric checks and evaluation."""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape as escape_markup

from grader import __version__
from grader.engine.calibration import CalibrationMissingError, write_calibration
from grader.engine.encoder import Encoder, ModelUnavailableError, SentenceTransformerEncoder
from grader.engine.loader import (
    LoadedPack,
    RubricError,
    UnknownNameError,
    discover_packs,
    find_question,
    load_all,
    load_available,
    load_company,
    load_pack,
)
from grader.engine.result import GradeResult
from grader.engine.rubric import Question
from grader.safe_text import MAX_ANSWER_BYTES, strip_control
from grader.startup import freeze_start_up, resume_collection

MAX_INPUT_BYTES = MAX_ANSWER_BYTES
"""Answers larger than this are refused outright; long but smaller ones are graded on their first words."""

EXIT_MISMATCH = 1
EXIT_BAD_INPUT = 2


def escape(text: str) -> str:
    """Text for ``console.print``: markup escaped and terminal control characters removed."""
    return escape_markup(strip_control(text))


class CliError(click.ClickException):
    """A one-line error with exit code 2 and no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"mockint: {self.message}", err=True)


class LazyGroup(click.Group):
    """A group whose heavier commands are imported only when run (or listed by --help).

    Start-up matters: the interview must be on screen within a second, and the evaluation
    command alone pulls in scipy and scikit-learn.
    """

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # Every database problem is one line and exit 2. The store module is looked up, not
            # imported: commands that never open the database must not pay for loading it.
            errors = sys.modules.get("grader.store.errors")
            if errors is not None and isinstance(exc, errors.StoreError):
                raise CliError(str(exc)) from None
            raise


LAZY_COMMANDS = {
    "start": "grader.tui.launch:start",
    "resume": "grader.tui.launch:resume",
    "review": "grader.tui.launch:review",
    "history": "grader.session_cli:history",
    "export": "grader.session_cli:export",
    "regrade": "grader.session_cli:regrade",
    "progress": "grader.session_cli:progress",
    "backup": "grader.session_cli:backup",
    "eval": "grader.evaluation.cli:eval_command",
    "code": "grader.code_cli:code",
}


TUI_COMMANDS = frozenset({"start", "resume", "review"})
"""Commands that open the TUI: they turn garbage collection back on once their first screen is
painted (``grader.startup``); every other command does so as soon as it is chosen."""


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockint")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """mockint: an offline mock-interview coach for machine-learning engineers.

    Start an interview with `mockint start --company pinterest`. Every answer is graded against
    expert rubrics with a local sentence model; nothing leaves this machine.
    """
    warnings.showwarning = _show_warning
    if ctx.invoked_subcommand not in TUI_COMMANDS:
        freeze_start_up()
        resume_collection()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
    """mockint's own warnings (e.g. an unusable embedding cache) as one line, not Python's two."""
    click.echo(f"mockint: warning: {message}", err=True)


def _encoder(model: Path | None) -> Encoder:
    return SentenceTransformerEncoder(model) if model else SentenceTransformerEncoder()


def _grader_for(loaded: LoadedPack, model: Path | None):  # type: ignore[no-untyped-def]
    from grader.engine.grading import grader_for_pack

    try:
        return grader_for_pack(loaded, _encoder(model))
    except CalibrationMissingError as exc:
        raise CliError(str(exc)) from None


def _read_answer(file: Path | None) -> str:
    """The answer, read no further than one byte past the limit (``< /dev/zero`` must not fill memory).

    Terminal control characters are removed: they carry no meaning for grading, and the answer's
    sentences are echoed back as evidence.
    """
    if file is not None and not file.is_file():
        raise CliError(f"--file: no such file: {file}")
    source = str(file) if file is not None else "standard input"
    try:
        if file is not None:
            with file.open("rb") as handle:
                raw = handle.read(MAX_INPUT_BYTES + 1)
        else:
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise CliError(f"{source}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise CliError(f"{source}: answer is over {MAX_INPUT_BYTES:,} bytes, the limit; shorten it")
    try:
        return strip_control(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CliError(f"{source}: not valid UTF-8 (byte {exc.start}); save the answer as UTF-8") from None


def _load_packs() -> list[LoadedPack]:
    try:
        return load_all()
    except RubricError as exc:
        raise CliError(str(exc)) from None


def _find_question(question_id: str, argument: str = "--question") -> tuple[LoadedPack, Question]:
    """The question's pack, loaded; a broken pack elsewhere is a warning, unless it may hold the question."""
    packs, errors = load_available()
    try:
        found = find_question(question_id, packs)
    except UnknownNameError as exc:
        broken = f"; {len(errors)} pack(s) could not be loaded, first: {errors[0]}" if errors else ""
        raise CliError(f"{argument}: {exc}{broken}") from None
    for error in errors:
        click.echo(f"mockint: warning: pack skipped: {error}", err=True)
    return found


@cli.command()
@click.option("--question", "-q", "question_id", required=True, help="Question id, e.g. pinterest.screen.overfitting.")
@click.option("--file", "-f", type=click.Path(path_type=Path, dir_okay=False), help="Read the answer from this file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the readable breakdown.")
@click.option("--model", type=click.Path(path_type=Path, exists=True), help="Another local model folder.")
def grade(question_id: str, file: Path | None, as_json: bool, model: Path | None) -> None:
    """Grade one answer (from --file or standard input) and explain the grade point by point."""
    loaded, question = _find_question(question_id)
    answer = _read_answer(file)
    grader = _grader_for(loaded, model)
    try:
        result = grader.grade(question, answer)
    except ModelUnavailableError as exc:
        raise CliError(f"grading unavailable: {exc}") from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        print_breakdown(Console(), question, result)


def print_breakdown(console: Console, question: Question, result: GradeResult) -> None:
    """The readable grade: what earned credit (with the candidate's words), what is missing, why."""
    console.print(f"[bold]{escape(question.id)}[/]  {escape(question.prompt)}")
    console.print(
        f"[bold]Grade {result.grade}/4 ({result.label})[/]   score {result.score}/100   "
        f"rubric coverage {round(100 * result.coverage)}% (points weighted by probability)   "
        f"relevant words {result.relevant_words}   "
        f"misconceptions {len(result.misconceptions)}"
    )
    for notice in result.notices:
        console.print(f"[yellow]! {escape(notice)}[/]")
    if result.covered:
        console.print("\n[green bold]Covered[/]")
        for point in result.covered:
            close = ", a close call" if point.close_call else ""
            console.print(
                f"  [green]✓[/] {escape(point.title)} (weight {point.weight:g}, {point.confidence:.0%} sure{close})"
            )
            console.print(f"      [dim]your words:[/] “{escape(point.evidence or '')}”")
    if result.missed:
        console.print("\n[red bold]Missed[/]")
        for point in result.missed:
            mark = "[yellow]?[/]" if point.close_call else "[red]✗[/]"  # not sure it was missed
            console.print(
                f"  {mark} {escape(point.title)} (weight {point.weight:g}, {point.probability:.0%} likely): "
                f"{escape(point.reason)}"
            )
            console.print(f"      {escape(point.feedback)}")
    if result.misconceptions:
        console.print("\n[magenta bold]Misconceptions[/]")
        for found in result.misconceptions:
            console.print(f"  [magenta]![/] {escape(found.claim)}")
            console.print(f"      [dim]your sentence that reads as this claim:[/] “{escape(found.evidence)}”")
            console.print(f"      {escape(found.correction)}")


@cli.command()
@click.option("--company", "-c", help="Only this company's pack.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def questions(company: str | None, as_json: bool) -> None:
    """List the questions of every pack (or one company's), round by round, and where each pack is.

    Packs are read from the project's rubrics/, from $MOCKINT_HOME/packs and from every folder in
    $MOCKINT_PACKS (separated by ":", or ";" on Windows). A pack that fails to load is named on
    standard error with its file and field, and the exit code is 2.
    """
    errors: list[RubricError] = []
    if company:
        try:
            packs = [load_company(company)]
        except UnknownNameError as exc:
            raise CliError(f"--company: {exc}") from None
        except RubricError as exc:
            raise CliError(str(exc)) from None
    else:
        packs, errors = load_available()
    rows = [
        {"company": loaded.company, "round": round_.id, "kind": round_.kind, "id": qid,
         "prompt": loaded.questions[qid].prompt, "points": len(loaded.questions[qid].points),
         "source": loaded.origin, "path": str(loaded.root)}
        for loaded in packs
        for round_ in loaded.pack.rounds
        for qid in round_.questions
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        console = Console()
        for loaded in packs:
            console.print(
                f"[bold]{escape(loaded.company)}[/]: {escape(loaded.pack.display_name)}, {escape(loaded.pack.role)}, "
                f"{len(loaded.ordered_questions())} questions  [dim]from {escape(loaded.origin)} "
                f"({escape(str(loaded.root))})[/]",
                soft_wrap=True,  # a path cut across lines cannot be copied
            )
            for row in rows:
                if row["company"] == loaded.company:
                    console.print(f"  [bold]{row['id']}[/]  [dim]({row['kind']}, {row['points']} points)[/]  "
                                  f"{escape(row['prompt'])}")
    for error in errors:
        click.echo(f"mockint: {error}", err=True)
    if errors:
        sys.exit(EXIT_BAD_INPUT)


@cli.group(cls=LazyGroup, lazy_commands={"new": "grader.authoring.cli:rubric_new",
                                         "try": "grader.authoring.cli:rubric_try"})
def rubric() -> None:
    """Write, try and check rubric packs; regenerate their JSON Schema. See CONTRIBUTING.md."""


@rubric.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-examples", is_flag=True,
              help="Validate and lint the files only; grade nothing (no worked examples, no judge lints).")
def rubric_check(paths: tuple[Path, ...], no_examples: bool) -> None:
    """Validate packs, lint them, and grade every worked example as a test.

    PATHS are pack folders, folders of packs (such as rubrics/), or question files; default: every
    pack mockint finds (rubrics/, $MOCKINT_HOME/packs, $MOCKINT_PACKS). Coding questions' reference
    solutions run against their own tests in the sandbox; one that fails makes its file invalid.

    Lints warn about what makes a rubric grade badly: a point with fewer than 4 references, two
    points the judge cannot tell apart, a misconception the judge reads into a correct reference, a
    thin probe or feedback, worked examples that do not span the scale, a question in no round, a
    file without its schema line. Warnings do not change the exit code; a TODO left by
    `rubric new` is an error.

    Exit 0 when everything is valid and every example grades as written, 1 when an example grades
    differently, 2 when a file is invalid or still has TODOs.
    """
    from grader.engine.loader import find_packs, load_question

    packs: list[LoadedPack] = []
    loose: list[Question] = []
    loose_files: dict[str, Path] = {}
    errors: list[str] = []
    if not paths:
        catalog = find_packs()
        errors.extend(str(error) for error in catalog.duplicates.values())
        for company in sorted(catalog.locations):
            try:
                packs.append(catalog.load(company))
            except RubricError as exc:
                errors.append(str(exc))
    for target in paths:
        if not target.exists():
            errors.append(f"{target}: no such file or folder")
        elif target.is_file():
            try:
                loose.append(load_question(target))
                loose_files[loose[-1].id] = target
            except RubricError as exc:
                errors.append(str(exc))
        else:
            roots = [target] if (target / "pack.yaml").exists() else list(discover_packs(target).values())
            if not roots:
                errors.append(f"{target}: no pack.yaml here or in its subfolders")
            for root in roots:
                try:
                    packs.append(load_pack(root))
                except RubricError as exc:
                    errors.append(str(exc))
    errors += _coding_reference_errors(packs, loose)
    for error in errors:
        click.echo(f"invalid: {error}", err=True)
    if errors:
        sys.exit(EXIT_BAD_INPUT)
    n_questions = sum(len(p.questions) for p in packs) + len(loose)
    click.echo(f"valid: {len(packs)} pack(s), {n_questions} question(s)")
    from grader.authoring.lint import echo_findings, judge_findings, loose_findings, static_findings

    todos = echo_findings([f for loaded in packs for f in static_findings(loaded)] + loose_findings(loose, loose_files))
    if todos:
        click.echo(f"invalid: {todos} TODO marker(s) left to fill", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if no_examples:
        return
    mismatches = 0
    checked = 0
    all_packs = packs or _load_packs()
    for loaded in packs:
        grader = _grader_for(loaded, None)
        mismatches += _check_examples(grader, list(loaded.questions.values()))
        checked += sum(len(q.examples) for q in loaded.questions.values())
        try:
            echo_findings(judge_findings(grader, list(loaded.questions.values()), loaded.question_files))
        except ModelUnavailableError as exc:
            raise CliError(f"grading unavailable: {exc}") from None
    for question in loose:
        try:
            owner, _ = find_question(question.id, all_packs)
        except UnknownNameError:
            # Without its pack there is no calibration to grade the examples with.
            click.echo(f"{question.id}: in no pack under rubrics/, so its examples were not run")
            continue
        mismatches += _check_examples(_grader_for(owner, None), [question])
        checked += len(question.examples)
    click.echo(f"examples: {checked - mismatches} of {checked} grade as written")
    if mismatches:
        sys.exit(EXIT_MISMATCH)


def _coding_reference_errors(packs: list[LoadedPack], loose: list[Question]) -> list[str]:
    """Each coding question's reference solution, run in the sandbox against its own tests."""
    from grader.coding.checks import reference_errors

    errors = [error for loaded in packs for qid, question in loaded.questions.items()
              for error in reference_errors(question, loaded.question_files.get(qid, loaded.root))]
    return errors + [error for question in loose for error in reference_errors(question, question.id)]


def _check_examples(grader, questions: list[Question]) -> int:  # type: ignore[no-untyped-def]
    items = [(q, example) for q in questions for example in q.examples]
    try:
        results = grader.grade_many([(q, example.answer) for q, example in items])
    except ModelUnavailableError as exc:
        raise CliError(f"grading unavailable: {exc}") from None
    mismatches = 0
    for (question, example), result in zip(items, results, strict=True):
        covered = {p.point_id for p in result.covered}
        if result.grade not in example.accepted_grades:
            mismatches += 1
            preview = " ".join(example.answer.split())[:70]
            written = " or ".join(map(str, example.accepted_grades))
            click.echo(
                f"MISMATCH {question.id}: example “{preview}…” written as grade {written}, "
                f"graded {result.grade} (covers {', '.join(sorted(covered)) or 'nothing'}; "
                f"written: {', '.join(example.covers) or 'nothing'})"
            )
    return mismatches


@rubric.command("schema")
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False), default=Path("rubrics/schema"),
              show_default=True, help="Folder for pack.schema.json and question.schema.json.")
def rubric_schema(output: Path) -> None:
    """Write the JSON Schemas editors use to check rubric files as they are typed."""
    from grader.engine.schema import write_schemas

    try:
        written = write_schemas(output)
    except OSError as exc:
        raise CliError(f"--output: cannot write to {output}: {exc.strerror}") from None
    for path in written:
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--model", type=click.Path(path_type=Path, exists=True), help="Another local model folder.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here instead of the package's calibration.json.")
@click.option("--no-judge", is_flag=True,
              help="Fit without the judge (similarity evidence only), for comparison.")
def calibrate(model: Path | None, output: Path | None, no_judge: bool) -> None:
    """Fit the model's one calibration across every pack's transcripts (calibration split and the
    style-shift tuning part only).

    Every pack, including one with no transcripts of its own, grades with it. The dev split stays
    untouched for `mockint eval`. The shipped judge's evidence is part of the fit unless --no-judge.
    """
    from grader.engine.calibration import MODEL_CALIBRATION_PATH
    from grader.engine.fitting import fit_calibration
    from grader.engine.judge import shared_judge
    from grader.engine.transcripts import TranscriptError, read_fitting_rows

    packs = _load_packs()
    try:
        rows = [row for pack in packs for row in read_fitting_rows(pack.company)]
    except TranscriptError as exc:
        raise CliError(str(exc)) from None
    questions = {qid: q for pack in packs for qid, q in pack.questions.items()}
    with_rows = sorted({pack.company for pack in packs for row in rows if row.question_id in pack.questions})
    try:
        calibration = fit_calibration(
            _encoder(model), questions, rows,
            fitted_on=f"transcripts of {', '.join(with_rows) or 'no pack'}: calibration split, style-shift tuning part",
            judge=None if no_judge else shared_judge(),
        )
    except ModelUnavailableError as exc:
        raise CliError(f"grading unavailable: {exc}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    target = output or MODEL_CALIBRATION_PATH
    try:
        write_calibration(target, calibration)
    except ValueError as exc:  # an unreadable existing file: say which, rather than overwrite it
        raise CliError(f"{target}: not a readable calibration file ({exc})") from None
    click.echo(f"wrote {target} for {calibration.model_id}: {json.dumps(calibration.metrics)}")


def main() -> None:
    cli()


if __name__ == "__main__":  # `python -m grader.cli`: the same commands as `mockint`, without its start-up pause
    main()
