"""``mockint eval``: measure the grader against humans, baselines, a public benchmark and attacks."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from grader.engine.calibration import CalibrationMissingError
from grader.engine.encoder import CachedEncoder, Encoder, ModelUnavailableError, SentenceTransformerEncoder
from grader.engine.grading import Grader, grader_for_pack
from grader.engine.loader import LoadedPack, RubricError, UnknownNameError, load_available, load_company
from grader.engine.transcripts import TranscriptError, read_fitting_rows
from grader.evaluation.datasets import Dataset, DatasetError, read_dataset, transcripts_dataset

USER_ERRORS: tuple[type[Exception], ...] = (
    DatasetError,
    RubricError,
    UnknownNameError,
    CalibrationMissingError,
    ModelUnavailableError,
    TranscriptError,
)


class EvalError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def make_encoder(model_path: Path | None) -> Encoder:
    """The sentence encoder to evaluate (tests replace this with a fake)."""
    if model_path is not None and not model_path.exists():
        raise EvalError(f"{model_path}: no such model folder (--model takes a local sentence-transformers model)")
    return SentenceTransformerEncoder(model_path)


def _stderr() -> Console:
    return Console(stderr=True)


def _new_progress(console: Console) -> Progress:
    """The one progress-bar layout every long evaluation run uses, on stderr and gone when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextlib.contextmanager
def progress_bar(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (shown only on a terminal); yields an ``advance(n)`` callback."""
    console = _stderr()
    if not enabled or not console.is_terminal:
        yield lambda n: None
        return
    with _new_progress(console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def _packs(company: str | None) -> list[LoadedPack]:
    if company:
        return [load_company(company)]
    packs, broken = load_available()
    for error in broken:  # one broken pack does not stop evaluating the others
        _stderr().print(f"mockint: warning: pack skipped: {escape(str(error))}", highlight=False)
    if not packs:
        raise EvalError("no rubric packs found (looked in rubrics/, $MOCKINT_HOME/packs and $MOCKINT_PACKS)")
    return packs


def _graders(packs: list[LoadedPack], encoder: Encoder, cache: Path) -> dict[str, Grader]:
    return {pack.company: grader_for_pack(pack, encoder, cache_dir=cache) for pack in packs}


def run_dataset_eval(
    *,
    dataset_path: Path | None,
    company: str | None,
    split: str,
    model: Path | None,
    cache: Path,
    transcripts: Path | None,
    baselines: bool,
    n_resamples: int,
) -> dict[str, Any]:
    from grader.evaluation.baselines import default_baselines
    from grader.evaluation.harness import evaluate_dataset

    packs = _packs(company)
    if dataset_path is not None:
        dataset = read_dataset(dataset_path, packs)
    else:
        dataset = transcripts_dataset(packs, split, transcripts)  # type: ignore[arg-type]
        if not dataset.rows:
            raise EvalError(
                f"no {split}-split transcripts for the rubric questions of: {', '.join(p.company for p in packs)}"
            )
    base_encoder = make_encoder(model)
    answer_cache = CachedEncoder(base_encoder, cache / "answers")
    used_packs = list({id(p): p for p in dataset.packs.values()}.values())
    graders = _graders(used_packs, answer_cache, cache)
    calibration: Dataset | None = None
    if baselines:
        calibration = transcripts_dataset(used_packs, "calibration", transcripts)
    with progress_bar("grading", len(dataset.rows), enabled=len(dataset.rows) > 20) as advance:
        report = evaluate_dataset(
            dataset,
            graders,
            baselines=default_baselines(answer_cache, list(dataset.questions.values())) if baselines else (),
            calibration=calibration,
            n_resamples=n_resamples,
            progress=advance,
        )
    answer_cache.save()
    return report


def run_loqo_eval(
    *, company: str | None, model: Path | None, transcripts: Path | None, n_resamples: int,
    dataset_path: Path | None = None,
) -> dict[str, Any]:
    """Leave-one-question-out over the transcripts (both splits), or over ``dataset_path``'s answers:
    for the style-shift tuning part, answers in other voices to questions the fit never saw."""
    from grader.evaluation.loqo import leave_one_question_out

    packs = _packs(company)
    if dataset_path is not None:
        dataset = read_dataset(dataset_path, packs, fitting_rows_allowed=True)
    else:
        dataset = transcripts_dataset(packs, None, transcripts)
    if not dataset.rows:
        raise EvalError(f"no transcripts for the rubric questions of: {', '.join(p.company for p in packs)}")
    fit_rows = [row for pack in packs for row in read_fitting_rows(pack.company, transcripts)]
    held_out = len({row.question_id for row in dataset.rows})
    encoder = make_encoder(model)
    judge = _judge_of_shipped_calibration(encoder.model_id)
    with progress_bar("fitting without each question", held_out) as advance:
        return leave_one_question_out(encoder, dataset, fit_rows, n_resamples=n_resamples,
                                      progress=advance, judge=judge)


def _judge_of_shipped_calibration(model_id: str):  # type: ignore[no-untyped-def]
    """The judge the shipped calibration uses (None when it uses none), so leave-one-question-out
    measures the grader as it ships."""
    from grader.engine.calibration import MODEL_CALIBRATION_PATH, CalibrationMissingError, calibration_for
    from grader.engine.grading import judge_for_calibration

    try:
        shipped = calibration_for(MODEL_CALIBRATION_PATH, model_id)
    except CalibrationMissingError:
        return None
    return judge_for_calibration(shipped)


@click.command("eval")
@click.option(
    "--dataset",
    "dataset_path",
    type=click.Path(path_type=Path),
    help=(
        "JSONL of graded answers (id, question_id, answer, grade 0-4; optional category, and covers "
        "and misconceptions as lists of the question's point and misconception ids, which add point "
        "detection and misconception naming figures)."
    ),
)
@click.option("--company", help="Only this company's pack (default: every pack).")
@click.option(
    "--split",
    type=click.Choice(["dev", "calibration"]),
    default="dev",
    show_default=True,
    help="Transcript split to evaluate when no --dataset is given.",
)
@click.option(
    "--transcripts",
    "transcripts_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Transcripts folder (default: the project's transcripts/).",
)
@click.option("--benchmark", type=click.Choice(["semeval2013"]), help="Run a public benchmark instead (needs --data).")
@click.option(
    "--data", "data_dir", type=click.Path(path_type=Path), help="Benchmark data folder (scientsbank/, beetle/)."
)
@click.option("--robustness", is_flag=True, help="Run the attack suite generated from the rubrics.")
@click.option(
    "--leave-one-question-out",
    "loqo",
    is_flag=True,
    help="Refit the calibration without each question's answers and rubric text, then grade that question's "
    "transcripts (both splits), or its answers in --dataset FILE (which may be fitting data, such as the "
    "style-shift tuning part): what a newly authored question faces.",
)
@click.option("--model", type=click.Path(path_type=Path), help="Grade with another local sentence-transformers model.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Embedding cache (default: mockint's cache dir).",
)
@click.option("--no-baselines", is_flag=True, help="Skip the baseline graders.")
@click.option(
    "--bootstrap",
    "n_resamples",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for the 95% intervals (0: none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a Markdown report (with PNG plots when matplotlib is installed).",
)
def eval_command(
    dataset_path: Path | None,
    company: str | None,
    split: str,
    transcripts_dir: Path | None,
    benchmark: str | None,
    data_dir: Path | None,
    robustness: bool,
    loqo: bool,
    model: Path | None,
    cache_dir: Path | None,
    no_baselines: bool,
    n_resamples: int,
    as_json: bool,
    report_path: Path | None,
) -> None:
    """Measure the grader: agreement with human grades beside simple baselines (default: the
    transcripts' dev split, or --dataset FILE), leave-one-question-out on the transcripts or on
    --dataset FILE (--leave-one-question-out), the SemEval-2013 benchmark (--benchmark semeval2013 --data DIR: the
    product's grader fitted on train, beside a benchmark-only feature model and baselines), or
    the robustness suite (--robustness). Exit 2 on bad input; with --robustness,
    exit 1 when an attack earns more than it should."""
    from grader.paths import cache_dir as default_cache_dir

    try:
        cache = cache_dir or default_cache_dir()
        if benchmark:
            exit_code = _benchmark(benchmark, data_dir, model, cache, as_json, report_path)
        elif robustness:
            exit_code = _robustness(company, model, cache, as_json, report_path)
        elif loqo:
            report = run_loqo_eval(company=company, model=model, transcripts=transcripts_dir,
                                   n_resamples=n_resamples, dataset_path=dataset_path)
            _emit_dataset(report, as_json, report_path)
            exit_code = 0
        else:
            report = run_dataset_eval(
                dataset_path=dataset_path,
                company=company,
                split=split,
                model=model,
                cache=cache,
                transcripts=transcripts_dir,
                baselines=not no_baselines,
                n_resamples=n_resamples,
            )
            _emit_dataset(report, as_json, report_path)
            exit_code = 0
    except (EvalError, *USER_ERRORS) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, KeyError | LookupError) and message.startswith(("'", '"')):
            message = message.strip("'\"")
        click.echo(f"mockint: {message}", err=True)
        sys.exit(2)
    sys.exit(exit_code)


def _emit_dataset(report: dict[str, Any], as_json: bool, report_path: Path | None) -> None:
    from grader.evaluation import render  # scipy and scikit-learn: only when a report is printed

    if as_json:
        click.echo(render.dumps(report))
    else:
        render.print_dataset_report(Console(), report)
    if report_path is not None:
        from grader.evaluation.markdown import write_dataset_report

        write_dataset_report(report, report_path)
        _stderr().print(f"report written to {report_path}")


def run_benchmark_eval(data_dir: Path, model: Path | None, cache: Path) -> dict[str, Any]:
    from grader.evaluation import semeval

    encoder = CachedEncoder(make_encoder(model), cache / "semeval")
    # Graded as the product grades: with the judge the shipped calibration uses.
    judge = _judge_of_shipped_calibration(encoder.model_id)
    console = _stderr()
    if not console.is_terminal:
        return semeval.run_benchmark(data_dir, encoder, cache_dir=cache / "semeval", judge=judge)
    with _new_progress(console) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            name = "encoding" if stage == "encoding" else "fitting"
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, description=stage if name == "fitting" else "encoding texts")

        return semeval.run_benchmark(data_dir, encoder, cache_dir=cache / "semeval", progress=progress, judge=judge)


def _benchmark(
    name: str, data_dir: Path | None, model: Path | None, cache: Path, as_json: bool, report_path: Path | None
) -> int:
    from grader.evaluation import render  # scipy and scikit-learn: only when a report is printed
    from grader.evaluation.semeval import SemEvalDataError, bar_failures

    if data_dir is None:
        raise EvalError(f"--benchmark {name} needs --data DIR (the folder holding scientsbank/ and beetle/)")
    if not data_dir.is_dir():
        raise EvalError(f"{data_dir}: no such folder")
    try:
        report = run_benchmark_eval(data_dir, model, cache)
    except SemEvalDataError as exc:
        raise EvalError(str(exc)) from None
    if as_json:
        click.echo(render.dumps(report))
    else:
        render.print_benchmark_report(Console(), report)
        for miss in bar_failures(report):
            _stderr().print(f"below the acceptance bar: {miss}", style="yellow")
    if report_path is not None:
        from grader.evaluation.markdown import write_benchmark_report

        write_benchmark_report(report, report_path)
        _stderr().print(f"report written to {report_path}")
    return 0


def run_robustness_eval(company: str | None, model: Path | None, cache: Path, seed: int = 0) -> dict[str, Any]:
    from grader.evaluation.robustness import generate_cases, run_robustness

    reports = []
    for pack in _packs(company):
        grader = grader_for_pack(pack, make_encoder(model), cache_dir=cache)
        questions = pack.ordered_questions()
        total = len(generate_cases(questions, seed))
        with progress_bar(f"attacking {pack.company}", total, enabled=total > 20) as advance:
            report = run_robustness(questions, grader, seed=seed, progress=advance)
        report["company"] = pack.company
        report["model_id"] = grader.model_id
        reports.append(report)
    if len(reports) == 1:
        return reports[0]
    merged = {key: value for key, value in reports[0].items() if key not in ("summary", "cases")}
    merged["packs"] = reports
    merged["failures"] = [f for r in reports for f in r["failures"]]
    merged["passed"] = not merged["failures"]
    return merged


def _robustness(company: str | None, model: Path | None, cache: Path, as_json: bool, report_path: Path | None) -> int:
    from grader.evaluation import render  # scipy and scikit-learn: only when a report is printed

    report = run_robustness_eval(company, model, cache)
    packs = report.get("packs", [report])
    if as_json:
        click.echo(render.dumps(report))
    else:
        for pack_report in packs:
            render.print_robustness_report(Console(), pack_report)
    if report_path is not None:
        from grader.evaluation.markdown import write_robustness_report

        write_robustness_report(report, report_path)
        _stderr().print(f"report written to {report_path}")
    if not report["passed"]:
        _stderr().print(f"[bold red]robustness suite FAILED ({len(report['failures'])} problem(s))[/bold red]")
        return 1
    return 0
