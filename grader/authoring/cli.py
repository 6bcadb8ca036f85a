"""`mockint rubric new` and `mockint rubric try`: write a pack from an interview report, try a question.

Imported only when one of these commands runs (see ``LazyGroup`` in grader/cli.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.cli import CliError, _find_question, _grader_for, _read_answer
from grader.engine.encoder import ModelUnavailableError
from grader.engine.loader import RubricError, find_packs, load_pack, pack_search_path
from grader.engine.result import GradeResult
from grader.engine.rubric import Question

MAX_REPORT_BYTES = 1_000_000
COMPANY_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@click.command("new")
@click.option("--company", "-c", help="Company id of the new pack: lowercase letters, digits, hyphens. Default: from "
              "the report's title (\"Pinterest — Machine Learning Engineer\" gives pinterest).")
@click.option("--from", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="An interview-experience report (plain text) to take rounds, questions and topics from.")
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of packs to write into; the pack goes in OUTPUT/COMPANY. Default: $MOCKINT_HOME/packs, "
                   "where mockint finds it at once.")
def rubric_new(company: str | None, report_path: Path | None, output: Path | None) -> None:
    """Scaffold a new pack with TODO markers, from an interview report or from nothing.

    With --from, the report's rounds become rounds, its questions become question files with the
    report's wording as the prompt, and its topics and key discussion points become point stubs
    named after them. Lines it cannot place are kept as comments in pack.yaml, never dropped. The
    command ends by listing what is left to fill; `mockint rubric check` fails until it is.
    """
    from grader.authoring.lint import todo_markers
    from grader.authoring.report import parse_report
    from grader.authoring.scaffold import scaffold_pack
    from grader.engine.schema import write_schemas
    from grader.paths import user_packs_dir

    report = None
    if report_path is not None:
        report = parse_report(_read_report(report_path))
        if not report.rounds:
            raise CliError(f"--from: found no round or question in {report_path}; "
                           "run without --from for an empty scaffold")
    if company is None:
        if report is None or not report.display_name:
            raise CliError("--company: give the new pack's company id (the report does not name the company)")
        company = "-".join(re.findall(r"[a-z0-9]+", report.display_name.lower()))
    if not COMPANY_ID.match(company):
        raise CliError(f"--company: {company!r} is not a company id (lowercase letters, digits and hyphens)")
    folder = output if output is not None else user_packs_dir()
    target = folder / company
    if target.exists():
        raise CliError(f"--output: {target} already exists; choose another --company or --output")
    existing = find_packs().locations.get(company)
    on_search_path = any(_same(folder, entry.path) for entry in pack_search_path())
    if existing is not None and on_search_path:
        raise CliError(f"--company: company id {company!r} is already used by {existing.root} ({existing.origin}); "
                       "choose another id")
    scaffold = scaffold_pack(company, report)
    try:
        for file in scaffold.files:
            path = target / file.relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.text, encoding="utf-8")
        write_schemas(folder / "schema")  # the files' schema lines point at ../schema and ../../schema
    except OSError as exc:
        raise CliError(f"--output: cannot write to {folder}: {exc.strerror}") from None
    try:
        loaded = load_pack(target)
    except RubricError as exc:  # a scaffold that does not load is a bug here, but say where
        raise CliError(f"the scaffold does not load: {exc}") from None
    questions = loaded.ordered_questions()
    click.echo(f"wrote {target}: {len(loaded.pack.rounds)} round(s), {len(questions)} question(s)")
    for round_ in loaded.pack.rounds:
        click.echo(f"  {round_.id} ({round_.kind}): {', '.join(round_.questions)}")
    if existing is not None:
        click.echo(f"note: company id {company!r} is also used by {existing.root}; rename one before adding "
                   f"{folder} to MOCKINT_PACKS")
    if report is not None and scaffold.unplaced_lines:
        click.echo(f"kept {scaffold.unplaced_lines} line(s) of the report that it could not place as comments at "
                   f"the top of {target / 'pack.yaml'}")
    files = [target / "pack.yaml", *(loaded.question_files[q.id] for q in questions)]
    left = {path: todo_markers(path) for path in files}
    total = sum(len(found) for found in left.values())
    click.echo(f"left to fill: {total} TODO(s)")
    for path, found in left.items():
        if found:
            fields = sorted({re.sub(r"\.\d+(?=\.|$)", "", f.field_path) for f in found})
            click.echo(f"  {path}: {len(found)} ({', '.join(fields)})")
    click.echo(f"then: mockint rubric check {target}    and    mockint rubric try {questions[0].id}")
    if not on_search_path:
        click.echo(f"to use it: export MOCKINT_PACKS={folder}")


def _read_report(path: Path) -> str:
    if not path.is_file():
        raise CliError(f"--from: no such file: {path}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise CliError(f"--from: cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise CliError(f"--from: {path} is over {MAX_REPORT_BYTES // 1_000_000} MB; a report is a few pages of text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"--from: {path} is not valid UTF-8 (byte {exc.start}); save it as UTF-8 text") from None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a.absolute() == b.absolute()


@click.command("try")
@click.argument("question_id", metavar="QUESTION")
@click.option("--file", "-f", type=click.Path(path_type=Path, dir_okay=False), help="Read the answer from this file.")
@click.option("--examples", is_flag=True, help="Grade every worked example: expected and actual side by side.")
@click.option("--model", type=click.Path(path_type=Path, exists=True), help="Another local model folder.")
def rubric_try(question_id: str, file: Path | None, examples: bool, model: Path | None) -> None:
    """Grade an answer to one question and show how the judge read it, point by point.

    Type the answer (end with Ctrl-D) or pipe it in. For each point: the verdict, the sentence the
    judge used and the reference it matched; for each misconception the same. With --examples,
    every worked example is graded instead, expected and actual side by side.
    """
    loaded, question = _find_question(question_id, "QUESTION")
    if not examples and file is None and sys.stdin.isatty():
        click.echo(f"{question.prompt}\nType an answer, then Ctrl-D on a new line:", err=True)
    answer = None if examples else _read_answer(file)
    grader = _grader_for(loaded, model)
    console = Console(soft_wrap=True)
    try:
        if examples:
            _show_examples(console, grader, question)
        else:
            _show_reading(console, grader, question, answer or "")
    except ModelUnavailableError as exc:
        raise CliError(f"grading unavailable: {exc}") from None


def _closest(grader, sentences: list[str], texts: list[str]) -> tuple[int, int, float]:  # type: ignore[no-untyped-def]
    """(sentence index, text index, similarity) of the closest pair, by the grader's own encoder."""
    vectors = grader.encoder.encode([*sentences, *texts])
    similarity = vectors[: len(sentences)] @ vectors[len(sentences):].T
    s_index, t_index = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
    return int(s_index), int(t_index), float(similarity[s_index, t_index])


def _show_reading(console: Console, grader, question: Question, answer: str) -> None:  # type: ignore[no-untyped-def]
    from grader.engine.text import split_sentences

    result: GradeResult = grader.grade(question, answer)
    console.print(f"[bold]{escape(question.id)}[/]: grade {result.grade}/4 ({result.label}), score {result.score}/100")
    for notice in result.notices:
        console.print(f"[yellow]! {escape(notice)}[/]")
    console.print("\n[bold]Points[/]")
    for point_result, point in zip(result.points, question.points, strict=True):
        mark = "[green]✓ covered[/]" if point_result.covered else "[red]✗ missed[/]"
        judged = (
            f", judge: states it {point_result.entailment:.0%}, opposite {point_result.contradiction:.0%}"
            if grader.judge is not None and point_result.evidence
            else ""
        )
        console.print(f"{mark}  {escape(point.id)} (weight {point.weight:g}, {point_result.probability:.0%} likely, "
                      f"similarity {point_result.similarity:.2f}, margin {point_result.margin:+.2f}{judged})")
        if point_result.evidence:
            _, ref_index, sim = _closest(grader, [point_result.evidence], point.references)
            console.print(f"    sentence:  “{escape(point_result.evidence)}”")
            console.print(f"    reference: “{escape(point.references[ref_index])}” (closest to the sentence as "
                          f"written, cosine {sim:.2f})")
        else:
            console.print("    sentence:  none close enough to quote")
        console.print(f"    [dim]{escape(point_result.reason)}[/]")
    misconceptions = [(point, m) for point in question.points for m in point.misconceptions]
    found = {m.misconception_id: m for m in result.misconceptions}
    contradictions = [m for m in result.misconceptions if m.is_contradiction]
    if misconceptions or contradictions:
        console.print("\n[bold]Misconceptions[/]")
    sentences = split_sentences(answer)
    for point, misconception in misconceptions:
        hit = found.get(misconception.id)
        if hit is not None:
            _, ph_index, sim = _closest(grader, [hit.evidence], misconception.phrasings)
            console.print(f"[magenta]! stated[/]  {escape(misconception.id)} (on {escape(point.id)}): "
                          f"{escape(misconception.claim)}")
            console.print(f"    sentence: “{escape(hit.evidence)}”")
            console.print(f"    phrasing: “{escape(misconception.phrasings[ph_index])}” ({sim:.2f})")
        else:
            console.print(f"[dim]- not stated[/]  {escape(misconception.id)} (on {escape(point.id)})")
            if sentences:
                s_index, ph_index, sim = _closest(grader, sentences, misconception.phrasings)
                console.print(f"    [dim]closest: “{escape(sentences[s_index])}” to “"
                              f"{escape(misconception.phrasings[ph_index])}” ({sim:.2f})[/]")
    for hit in contradictions:
        console.print(f"[magenta]! contradicts[/] {escape(hit.point_id)}: “{escape(hit.evidence)}”")


def _show_examples(console: Console, grader, question: Question) -> None:  # type: ignore[no-untyped-def]
    if not question.examples:
        raise CliError(f"{question.id}: has no worked examples; add some under `examples:`")
    results = grader.grade_many([(question, example.answer) for example in question.examples])
    table = Table(title=f"{question.id}: worked examples", show_lines=True)
    for column in ("#", "answer", "expected", "actual", "covers expected", "covers actual", ""):
        table.add_column(column, overflow="fold")
    mismatches = 0
    for index, (example, result) in enumerate(zip(question.examples, results, strict=True)):
        ok = result.grade in example.accepted_grades
        mismatches += not ok
        actual_covers = [p.point_id for p in result.covered]
        table.add_row(
            str(index), escape(" ".join(example.answer.split())[:160]),
            " or ".join(map(str, example.accepted_grades)), str(result.grade),
            escape(", ".join(example.covers) or "-"), escape(", ".join(actual_covers) or "-"),
            "[green]ok[/]" if ok else "[red]MISMATCH[/]",
        )
    console.print(table)
    console.print(f"{len(question.examples) - mismatches} of {len(question.examples)} grade as written")
    if mismatches:
        sys.exit(1)  # as `rubric check` does for an example that grades differently
