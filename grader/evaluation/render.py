"""Terminal tables (rich) and JSON for evaluation results."""

from __future__ import annotations

import json
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from grader.evaluation.metrics import HIGHER_IS_BETTER

METRIC_LABELS = {
    "qwk": "QWK",
    "spearman": "Spearman",
    "pearson": "Pearson",
    "mae": "MAE",
    "exact": "exact",
    "within_one": "within 1",
}


def clean_json(value: Any) -> Any:
    """NaN and infinities become null so the output is strict JSON."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return clean_json(value.item())
    return value


def dumps(value: Any) -> str:
    return json.dumps(clean_json(value), indent=2, allow_nan=False)


def fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _with_ci(metrics: dict[str, Any], name: str) -> str:
    text = fmt(metrics.get(name))
    ci = metrics.get("ci95", {}).get(name)
    if ci and not any(v is None or (isinstance(v, float) and math.isnan(v)) for v in ci):
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return text


def agreement_table(title: str, systems: dict[str, dict[str, Any]], *, with_ci: bool = True) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("system", no_wrap=True)
    for name, label in METRIC_LABELS.items():
        arrow = "↑" if HIGHER_IS_BETTER[name] else "↓"
        table.add_column(f"{label} {arrow}", justify="right")
    table.add_column("n", justify="right")
    for system, metrics in systems.items():
        cells = [_with_ci(metrics, m) if with_ci else fmt(metrics.get(m)) for m in METRIC_LABELS]
        table.add_row(f"[bold]{system}[/bold]" if system == "mockint" else system, *cells, str(metrics.get("n", "")))
    return table


def _common_prefix(keys: list[str]) -> str:
    """The dotted prefix every key shares (e.g. 'pinterest.'), dropped to keep tables narrow."""
    if len(keys) < 2:
        return ""
    prefix = keys[0].split(".")[0] + "."
    return prefix if all(k.startswith(prefix) for k in keys) else ""


def grouped_table(title: str, groups: dict[str, dict[str, dict[str, Any]]], metric: str = "qwk") -> Table:
    """One row per group, one column per system showing one metric, plus mockint's MAE and n."""
    systems = list(next(iter(groups.values())).keys()) if groups else []
    prefix = _common_prefix(list(groups))
    table = Table(title=title + (f" ({prefix}*)" if prefix else ""), title_justify="left")
    table.add_column("group", no_wrap=True)
    table.add_column("n", justify="right")
    for system in systems:
        table.add_column(f"{system} {METRIC_LABELS[metric]}", justify="right")
    table.add_column("mockint MAE", justify="right")
    for key, by_system in groups.items():
        n = next(iter(by_system.values()))["n"]
        table.add_row(
            key.removeprefix(prefix),
            str(n),
            *(fmt(by_system[s].get(metric)) for s in systems),
            fmt(by_system["mockint"].get("mae")) if "mockint" in by_system else "–",
        )
    return table


def point_table(points: dict[str, dict[str, Any]]) -> Table:
    prefix = _common_prefix(list(points))
    table = Table(title="Rubric point detection vs the human 'covers'", title_justify="left")
    for column in ("point", "precision", "recall", "F1", "covered (human)", "n"):
        table.add_column(column, justify="left" if column == "point" else "right", no_wrap=column == "point")
    for key, row in points.items():
        table.add_row(
            key.removeprefix(prefix),
            fmt(row["precision"]),
            fmt(row["recall"]),
            fmt(row["f1"]),
            str(row["support"]),
            str(row["n"]),
        )
    return table


def misconception_sentence(naming: dict[str, Any]) -> str:
    """One plain sentence on how the misconceptions mockint named agree with the human's marks."""
    named, right, marked = naming["named"], naming["named"] - len(naming["false_namings"]), naming["support"]
    text = (
        f"{named} misconception{'' if named == 1 else 's'} named, {right} of them also marked by the human grader "
        f"(precision {fmt(naming['precision'])}); {right} of the {marked} the human marked were named "
        f"(recall {fmt(naming['recall'])})."
    )
    if naming["contradictions_named"]:
        text += f" Also {naming['contradictions_named']} contradictions of a point, which the human labels do not mark."
    return text


def confusion_table(matrix: list[list[int]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("human \\ mockint")
    for grade in range(5):
        table.add_column(str(grade), justify="right")
    for grade, row in enumerate(matrix):
        table.add_row(str(grade), *(f"[bold]{v}[/bold]" if i == grade else str(v) for i, v in enumerate(row)))
    return table


def print_dataset_report(console: Console, report: dict[str, Any]) -> None:
    console.print(f"[bold]{report['dataset']}[/bold]: {report['n']} answers, model {report['model_id']}")
    console.print(agreement_table("Agreement with human grades (95% bootstrap intervals)", report["systems"]))
    if report["baselines"]:
        console.print(
            "baselines: "
            + "; ".join(f"{k} = {v}" for k, v in report["baselines"].items())
            + " (grade map fitted on the calibration split only)",
            style="dim",
        )
    console.print(grouped_table("Per question", report["per_question"]))
    console.print(grouped_table("Per category", report["per_category"]))
    if report["per_point"]:
        console.print(point_table(report["per_point"]))
    if report.get("misconception_naming"):
        console.print("Misconception naming: " + misconception_sentence(report["misconception_naming"]))
    if report.get("adversarial"):
        console.print(
            "Adversarial answers (target: mean at most 0.5, none above 1): "
            + "; ".join(f"{name} n={row['n']} mean {row['mean']:.2f} max {row['max']} (human mean "
                        f"{row['human_mean']:.2f})" for name, row in report["adversarial"].items())
        )
    console.print(
        confusion_table(report["confusion_matrix"]["mockint"], "Confusion matrix (rows human, columns mockint)")
    )
    for note in report.get("notes", []):
        console.print(f"note: {note}", style="yellow")


SPLIT_SHORT = {
    "test-unseen-answers": "unseen answers",
    "test-unseen-questions": "unseen questions",
    "test-unseen-domains": "unseen domains",
}


def benchmark_table(report: dict[str, Any], ways: int) -> Table:
    """mockint beside the baselines for one label granularity: weighted F1 (macro F1, accuracy for mockint)."""
    bars = {(b["corpus"], b["split"]): b["weighted_f1"] for b in report.get("bars", [])}
    systems = list(dict.fromkeys(row["system"] for row in report["baselines"]))
    table = Table(title=f"SemEval-2013 Task 7, {ways}-way (weighted F1; trained on train only)", title_justify="left")
    for column in ("corpus", "test split", "n", "mockint", "macro F1", "accuracy", *systems):
        table.add_column(column, justify="left" if column in ("corpus", "test split") else "right")
    if ways == 2:
        table.add_column("bar", justify="right")
    for row in report["results"]:
        if row["ways"] != ways:
            continue
        others = {
            b["system"]: b["weighted_f1"]
            for b in report["baselines"]
            if (b["corpus"], b["split"], b["ways"]) == (row["corpus"], row["split"], ways)
        }
        bar = bars.get((row["corpus"], row["split"]))
        mark = ""
        if ways == 2 and bar is not None:
            mark = " [green]✓[/green]" if row["weighted_f1"] >= bar else " [red]✗[/red]"
        cells = [
            row["corpus"],
            SPLIT_SHORT.get(row["split"], row["split"]),
            str(row["n"]),
            f"[bold]{row['weighted_f1']:.3f}[/bold]{mark}",
            fmt(row["macro_f1"], 3),
            fmt(row["accuracy"], 3),
            *(fmt(others.get(s), 3) for s in systems),
        ]
        if ways == 2:
            cells.append(fmt(bar, 2))
        table.add_row(*cells)
    return table


def print_benchmark_report(console: Console, report: dict[str, Any]) -> None:
    for ways in sorted({row["ways"] for row in report["results"]}):
        console.print(benchmark_table(report, ways))
    published = Table(title="Published reference points (weighted F1, 2-way, unseen answers)", title_justify="left")
    for column in ("corpus", "system", "weighted F1"):
        published.add_column(column)
    for row in report.get("published", []):
        published.add_row(row["corpus"], row["system"], f"{row['weighted_f1']:.3f}")
    console.print(published)
    for row in report.get("selection", []):
        console.print(
            f"{row['corpus']} {row['ways']}-way: chose '{row['unseen_questions_model']}' for new questions and "
            f"'{row['seen_questions_model']}' for questions with graded train answers "
            f"(by {row['folds']}-fold CV on train)",
            style="dim",
        )
    console.print(f"model {report['model_id']}; {report['protocol']}; {report['seconds']} s", style="dim")


def print_robustness_report(console: Console, report: dict[str, Any]) -> None:
    table = Table(title=f"Robustness: {report['questions']} questions, seed {report['seed']}", title_justify="left")
    for column in ("case", "n", "mean grade", "max grade", "expected", "result"):
        table.add_column(column, justify="left" if column in ("case", "expected") else "right")
    thresholds = report["thresholds"]
    for kind, entry in report["summary"].items():
        # Attacks and the model answers fail the suite; a perturbation that misbehaves is a warning.
        miss, extra = "[red]FAIL[/red]", ""
        if kind == "model answer":
            expected = f"each >= {thresholds['min_model_answer_grade']}"
            ok = entry["min_grade"] >= thresholds["min_model_answer_grade"]
        elif kind == "padded correct answer":
            expected = "keeps its grade (±1)"
            ok = entry["kept_grade"] == entry["n"]
            miss, extra = "[yellow]warn[/yellow]", f" ({entry['kept_grade']}/{entry['n']} kept)"
        elif kind == "correct answer + false claim":
            expected = "loses grade, names it"
            ok = entry["lost_grade"] == entry["n"] and entry["named_misconception"] == entry["n"]
            miss = "[yellow]warn[/yellow]"
            extra = f" ({entry['lost_grade']}/{entry['n']} lost, {entry['named_misconception']}/{entry['n']} named)"
        else:
            expected = f"each <= {thresholds['max_attack_grade']}, mean <= {thresholds['max_attack_mean']}"
            ok = (
                entry["max_grade"] <= thresholds["max_attack_grade"]
                and entry["mean_grade"] <= thresholds["max_attack_mean"]
            )
        table.add_row(
            kind,
            str(entry["n"]),
            f"{entry['mean_grade']:.2f}",
            str(entry["max_grade"]),
            expected,
            ("[green]ok[/green]" if ok else miss) + extra,
        )
    console.print(table)
    for warning in report["warnings"]:
        console.print(f"warning: {warning}", style="yellow")
    if report["failures"]:
        console.print(f"[bold red]ROBUSTNESS FAILED: {len(report['failures'])} problem(s)[/bold red]")
        for failure in report["failures"]:
            console.print(f"  [red]✗[/red] {failure}")
    else:
        console.print(
            "[bold green]robustness passed: every attack earned <= 1 and every model answer >= 3[/bold green]"
        )
