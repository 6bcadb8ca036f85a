"""Regenerate the README's "How good is the grader" block from a fresh evaluation run.

    .venv/bin/python scripts/update_readme_eval.py [--data DIR] [--check]

Runs, in one process: the headline figures (the new writers' answers and the style-shift dev part,
written and graded by other people in other voices, and leave-one-question-out over the
transcripts), the transcripts' dev split beside the baselines, the SemEval-2013 benchmark
(DIR defaults to ../shared/datasets/semeval2013-task7 beside the repository), the robustness
suite and the misconception probe (transcripts/probes/); writes the full reports to docs/eval/
and replaces the text between ``<!-- eval:start -->`` and ``<!-- eval:end -->`` in README.md.
``--check`` changes nothing and exits 1 when the README block differs from a fresh run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.evaluation import cli as eval_cli  # noqa: E402
from grader.evaluation import markdown  # noqa: E402
from grader.evaluation.render import misconception_sentence  # noqa: E402
from grader.evaluation.semeval import bar_failures  # noqa: E402

START = "<!-- eval:start -->"
END = "<!-- eval:end -->"
DOCS = ROOT / "docs" / "eval"
COMMAND = ".venv/bin/python scripts/update_readme_eval.py"


PROBE = ROOT / "transcripts" / "probes" / "pinterest-misconceptions.jsonl"
STYLE_SHIFT_DEV = ROOT / "transcripts" / "style-shift" / "pinterest-dev.jsonl"
NEW_WRITERS_DEV = ROOT / "transcripts" / "style-shift" / "pinterest-dev-2.jsonl"


def adversarial_sentence(report: dict) -> str:
    rows = report.get("adversarial") or {}
    if not rows:
        return "no adversarial answers in this set."
    return "; ".join(
        f"{name} n={row['n']} mean {row['mean']:.2f} max {row['max']}" for name, row in rows.items()
    ) + " (human mean 0 for each; target: mean at most 0.5, none above 1)."


def dataset_headline(title: str, report: dict) -> list[str]:
    """A headline dataset's paragraph (``title`` says what it is), its table, adversarial answers and
    misconception naming."""
    lines = [
        f"{title} Baselines calibrated on the calibration split as mockint is.",
        "",
        *markdown.dataset_sections(report),
        f"Adversarial answers: {adversarial_sentence(report)}",
        "",
    ]
    if report.get("misconception_naming"):
        lines += [f"Misconception naming: {misconception_sentence(report['misconception_naming'])}", ""]
    return lines


def headline_lines(style_shift: dict, loqo: dict, new_writers: dict) -> list[str]:
    """The figures that can see overfitting to the transcripts' style and questions, and to the
    style of the writers whose answers the calibration was fitted on."""
    lines = [
        *dataset_headline(
            f"**Headline: new writers** (`{NEW_WRITERS_DEV.relative_to(ROOT)}`: {new_writers['n']} answers to the "
            "14 questions by eight writers in 28 voices, none of them the writers or voices of anything the grader "
            "was fitted or tuned on, graded blind by eight more graders; never used to fit or to choose anything).",
            new_writers,
        ),
        *dataset_headline(
            f"**Headline: style-shift dev** (`{STYLE_SHIFT_DEV.relative_to(ROOT)}`: {style_shift['n']} answers to "
            "the 14 questions, written by other people in other voices and graded blind; never used to fit; one "
            "choice, how many sentences the judge reads per point, was made on it beside leave-one-question-out, "
            "see `JUDGE_SENTENCES_PER_POINT`; its writers also wrote the tuning part the calibration is fitted on).",
            style_shift,
        ),
    ]
    metrics = loqo["metrics"]
    lines += [
        f"**Headline: leave-one-question-out** ({loqo['n']} transcript answers, both splits; for each of the "
        f"{len(loqo['held_out_questions'])} questions the calibration is refitted without any of its answers or "
        "rubric text, then that question is graded: what a newly authored question faces): "
        f"QWK {metrics['qwk']:.2f}, exact {metrics['exact']:.2f}, within one {metrics['within_one']:.2f}, "
        f"MAE {metrics['mae']:.2f}. Adversarial answers: {adversarial_sentence(loqo)}",
        "",
    ]
    if loqo.get("misconception_naming"):
        lines += [f"Misconception naming: {misconception_sentence(loqo['misconception_naming'])}", ""]
    return lines


def probe_lines(probe: dict) -> list[str]:
    """One paragraph on the misconception probe: answers mostly right but with one wrong claim."""
    human = {p["id"]: p["human"] for p in probe["predictions"]}
    predicted = {p["id"]: p["grade"] for p in probe["predictions"]}
    n = len(predicted)
    mean_human = sum(human[i] for i in predicted) / n
    mean_mockint = sum(predicted.values()) / n
    above = sum(1 for i, grade in predicted.items() if grade > human[i])
    metrics = probe["metrics"]
    return [
        f"**Misconception probe** (`{PROBE.relative_to(ROOT)}`: {n} answers that are mostly right but state one "
        "wrong claim in their own words, written and graded by a separate reviewer who saw only the rubrics, "
        f"not the transcripts or the grader): human mean grade {mean_human:.2f}, mockint {mean_mockint:.2f}; "
        f"mockint grades {above} of {n} higher; MAE {metrics['mae']:.2f}, exact {metrics['exact']:.2f}. A wrong "
        "claim worded unlike the rubric's misconception phrasings often goes unnoticed, and the answer keeps the "
        "grade its correct parts earn.",
        "",
        *([f"Misconception naming on the probe: {misconception_sentence(probe['misconception_naming'])}", ""]
          if probe.get("misconception_naming") else []),
    ]


def build_block(
    style_shift: dict,
    loqo: dict,
    dataset: dict,
    benchmark: dict | None,
    robustness: dict,
    probe: dict,
    new_writers: dict,
) -> str:
    lines = [
        START,
        f"<!-- generated by `{COMMAND}`; do not edit by hand -->",
        "",
        *headline_lines(style_shift, loqo, new_writers),
        f"**Human agreement** on the project's transcripts, dev split ({dataset['n']} answers never used for "
        "calibration, but written by the same authors as the calibration split, so it cannot show overfitting to "
        "their style), 95% bootstrap intervals. Baselines are calibrated on the calibration split exactly as "
        "mockint is.",
        "",
        *markdown.dataset_sections(dataset),
    ]
    if dataset.get("misconception_naming"):
        naming = misconception_sentence(dataset["misconception_naming"])
        lines += [f"**Misconception naming**, same dev split: {naming}", ""]
    if benchmark is not None:
        lines += [
            "**SemEval-2013 Task 7** (SciEntsBank, Beetle), reference-answer mode: each question is one rubric point "
            "whose references are its reference answers. **mockint** is the product's grader itself (same code, "
            "encoder and judge), its point-coverage model fitted on train exactly as `mockint calibrate` fits it; "
            "2-way correct = point covered, 3-way contradictory = a sentence read as stating the point's opposite. "
            "The **feature model** beside it is a separate classifier over alignment, overlap and cue features "
            "built for this benchmark only (model choice by cross-validation on train). Everything is fitted on "
            "train only; each test split is predicted once.",
            "",
            *markdown.benchmark_sections(benchmark),
            "Published: best SemEval-2013 entry 0.773 (SciEntsBank unseen answers, 2-way) and 0.845 (Beetle); "
            "Riordan et al. 2017 0.712 / 0.790.",
            "",
        ]
        misses = bar_failures(benchmark)
        if misses:
            lines += ["mockint below the grader issue's bars: " + "; ".join(misses) + ".", ""]
    lines += probe_lines(probe)
    verdict = "passes" if robustness["passed"] else f"fails ({len(robustness['failures'])} problems)"
    lines += [
        f"**Robustness** (attacks generated from the rubrics, seed {robustness['seed']}): the suite {verdict}.",
        "",
        *markdown.robustness_sections(robustness),
        f"Full reports: `docs/eval/`. Regenerate with `{COMMAND}`.",
        END,
    ]
    return "\n".join(lines)


def replace_block(readme: str, block: str) -> str:
    if START not in readme or END not in readme:
        raise click.ClickException(f"README.md has no {START} ... {END} markers; add them where the block goes")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def _dataset_eval(path: Path | None, cache: Path, *, baselines: bool, n_resamples: int) -> dict:
    return eval_cli.run_dataset_eval(
        dataset_path=path,
        company=None,
        split="dev",
        model=None,
        cache=cache,
        transcripts=None,
        baselines=baselines,
        n_resamples=n_resamples,
    )


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=ROOT.parent / "shared" / "datasets" / "semeval2013-task7",
    show_default=True,
)
@click.option("--check", is_flag=True, help="Exit 1 if README.md is not what a fresh run produces.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False))
def main(data_dir: Path, check: bool, cache_dir: Path | None) -> None:
    from grader.paths import cache_dir as default_cache_dir

    cache = cache_dir or default_cache_dir()
    # The dev split with baselines and intervals; the probe is only summarised, so it needs neither.
    style_shift = _dataset_eval(STYLE_SHIFT_DEV, cache, baselines=True, n_resamples=1000)
    new_writers = _dataset_eval(NEW_WRITERS_DEV, cache, baselines=True, n_resamples=1000)
    loqo = eval_cli.run_loqo_eval(company="pinterest", model=None, transcripts=None, n_resamples=0)
    dataset = _dataset_eval(None, cache, baselines=True, n_resamples=1000)
    benchmark = eval_cli.run_benchmark_eval(data_dir, None, cache) if data_dir.is_dir() else None
    if benchmark is None:
        click.echo(f"warning: {data_dir} not found; the SemEval section is left out", err=True)
    robustness = eval_cli.run_robustness_eval(None, None, cache)
    probe = _dataset_eval(PROBE, cache, baselines=False, n_resamples=0)
    block = build_block(style_shift, loqo, dataset, benchmark, robustness, probe, new_writers)
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    updated = replace_block(readme, block)
    if check:
        if updated != readme:
            raise click.ClickException("README.md's evaluation block is stale; run " + COMMAND)
        click.echo("README.md's evaluation block matches a fresh run")
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    markdown.write_dataset_report(dataset, DOCS / "transcripts-dev.md")
    markdown.write_dataset_report(style_shift, DOCS / "style-shift-dev.md")
    markdown.write_dataset_report(new_writers, DOCS / "style-shift-dev-2.md")
    markdown.write_dataset_report(loqo, DOCS / "leave-one-question-out.md")
    if benchmark is not None:
        markdown.write_benchmark_report(benchmark, DOCS / "semeval2013.md")
    markdown.write_robustness_report(robustness, DOCS / "robustness.md")
    readme_path.write_text(updated, encoding="utf-8")
    click.echo(f"updated README.md and {DOCS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
