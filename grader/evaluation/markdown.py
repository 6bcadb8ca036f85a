"""Markdown reports of evaluation results, with PNG plots when matplotlib is installed.

Plots are written next to the report (``<report stem>-*.png``) and linked from it. Without
matplotlib the report is the same minus the pictures, and says so.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from grader.evaluation.render import METRIC_LABELS, SPLIT_SHORT, misconception_sentence


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ci(metrics: dict[str, Any], name: str) -> str:
    text = _f(metrics.get(name))
    ci = metrics.get("ci95", {}).get(name)
    if ci and all(isinstance(v, float) and not math.isnan(v) for v in ci):
        text += f" ({ci[0]:.2f}–{ci[1]:.2f})"
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def agreement_rows(systems: dict[str, dict[str, Any]]) -> list[list[str]]:
    return [
        [f"**{name}**" if name == "mockint" else name, *(_ci(m, k) for k in METRIC_LABELS), str(m.get("n", ""))]
        for name, m in systems.items()
    ]


def dataset_sections(report: dict[str, Any]) -> list[str]:
    """The agreement tables of a dataset report, as Markdown lines (shared with the README block)."""
    lines = _table(["system", *METRIC_LABELS.values(), "n"], agreement_rows(report["systems"]))
    return lines


def _plots(report: dict[str, Any], path: Path) -> list[str]:
    plt = _pyplot()
    if plt is None:
        return ["_Plots skipped: matplotlib is not installed (pip install matplotlib)._", ""]
    import numpy as np

    stem = path.with_suffix("")
    lines: list[str] = []

    matrix = np.array(report["confusion_matrix"]["mockint"])
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    ax.set_xlabel("mockint grade")
    ax.set_ylabel("human grade")
    ax.set_title("Confusion matrix")
    ax.set_xticks(range(5))
    ax.set_yticks(range(5))
    fig.tight_layout()
    confusion = stem.with_name(stem.name + "-confusion.png")
    fig.savefig(confusion, dpi=110)
    plt.close(fig)
    lines += [f"![confusion matrix]({confusion.name})", ""]

    rel = [r for r in report["reliability"] if r["n"]]
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    ax.plot([r["mean_score"] for r in rel], [r["mean_human_grade"] for r in rel], "o-", label="mockint")
    for r in rel:
        ax.annotate(
            f"n={r['n']}",
            (r["mean_score"], r["mean_human_grade"]),
            fontsize=7,
            xytext=(3, -10),
            textcoords="offset points",
        )
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.2, 4.2)
    ax.set_xlabel("mockint score (band mean)")
    ax.set_ylabel("mean human grade")
    ax.set_title("Score reliability")
    fig.tight_layout()
    reliability = stem.with_name(stem.name + "-reliability.png")
    fig.savefig(reliability, dpi=110)
    plt.close(fig)
    lines += [f"![score reliability]({reliability.name})", ""]

    dist = report["grade_distribution"]
    fig, ax = plt.subplots(figsize=(5.4, 3.6))
    names = list(dist)
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        ax.bar(np.arange(5) + k * width - 0.4 + width / 2, dist[name], width=width, label=name)
    ax.set_xticks(range(5))
    ax.set_xlabel("grade")
    ax.set_ylabel("answers")
    ax.set_title("Grade distributions")
    ax.legend(fontsize=7)
    fig.tight_layout()
    grades = stem.with_name(stem.name + "-grades.png")
    fig.savefig(grades, dpi=110)
    plt.close(fig)
    lines += [f"![grade distributions]({grades.name})", ""]
    return lines


def write_dataset_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# mockint evaluation: {report['dataset']}",
        "",
        f"{report['n']} answers; model `{report['model_id']}`; primary metric: {report['primary_metric']}. "
        "Intervals are 95% bootstrap intervals. Baselines map their score to a grade with cut points fitted "
        "as mockint's are, on the calibration split only.",
        "",
        "## Agreement with human grades",
        "",
        *dataset_sections(report),
    ]
    for title, key in (("Per question", "per_question"), ("Per category", "per_category")):
        groups = report[key]
        systems = list(next(iter(groups.values())).keys()) if groups else []
        rows = [
            [name, str(next(iter(by.values()))["n"]), *(_f(by[s]["qwk"]) for s in systems), _f(by["mockint"]["mae"])]
            for name, by in groups.items()
        ]
        lines += [f"## {title} (QWK)", "", *_table([key.split("_")[1], "n", *systems, "mockint MAE"], rows)]
    if report["per_point"]:
        rows = [
            [name, _f(p["precision"]), _f(p["recall"]), _f(p["f1"]), str(p["support"]), str(p["n"])]
            for name, p in report["per_point"].items()
        ]
        lines += [
            "## Rubric point detection",
            "",
            *_table(["point", "precision", "recall", "F1", "covered", "n"], rows),
        ]
    naming = report.get("misconception_naming")
    if naming:
        lines += ["## Misconception naming", "", misconception_sentence(naming), ""]
        if naming["false_namings"]:
            lines += ["Named where the human marked no such claim:", ""]
            lines += [
                f"- {f['id']}: {f['misconception']}, on “{' '.join(f['evidence'].split())}”"
                for f in naming["false_namings"]
            ]
            lines.append("")
    matrix = report["confusion_matrix"]["mockint"]
    lines += [
        "## Confusion matrix (rows: human grade, columns: mockint grade)",
        "",
        *_table(["human \\ mockint", *map(str, range(5))], [[str(g), *map(str, row)] for g, row in enumerate(matrix)]),
        "## Plots",
        "",
        *_plots(report, path),
    ]
    lines += [f"- note: {note}" for note in report.get("notes", [])]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def benchmark_sections(report: dict[str, Any]) -> list[str]:
    bars = {(b["corpus"], b["split"]): b["weighted_f1"] for b in report.get("bars", [])}
    systems = list(dict.fromkeys(b["system"] for b in report["baselines"]))
    lines: list[str] = []
    for ways in sorted({r["ways"] for r in report["results"]}):
        rows = []
        for r in report["results"]:
            if r["ways"] != ways:
                continue
            others = {
                b["system"]: b["weighted_f1"]
                for b in report["baselines"]
                if (b["corpus"], b["split"], b["ways"]) == (r["corpus"], r["split"], ways)
            }
            bar = bars.get((r["corpus"], r["split"])) if ways == 2 else None
            rows.append(
                [
                    r["corpus"],
                    SPLIT_SHORT.get(r["split"], r["split"]),
                    str(r["n"]),
                    f"**{r['weighted_f1']:.3f}**",
                    _f(r["macro_f1"], 3),
                    _f(r["accuracy"], 3),
                    *(_f(others.get(s), 3) for s in systems),
                    _f(bar) if bar else "–",
                ]
            )
        lines += [
            f"**{ways}-way** (weighted F1 unless noted)",
            "",
            *_table(
                ["corpus", "test split", "n", "mockint", "mockint macro F1", "mockint accuracy", *systems, "bar"], rows
            ),
        ]
    return lines


def write_benchmark_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# SemEval-2013 Task 7",
        "",
        f"Model `{report['model_id']}`; {report['protocol']}.",
        "",
        *benchmark_sections(report),
        "## Published reference points",
        "",
        *_table(
            ["corpus", "system", "weighted F1 (2-way, unseen answers)"],
            [[p["corpus"], p["system"], f"{p['weighted_f1']:.3f}"] for p in report["published"]],
        ),
        "## Feature model choice (cross-validation on train)",
        "",
    ]
    for s in report["selection"]:
        lines.append(
            f"- {s['corpus']} {s['ways']}-way: new questions `{s['unseen_questions_model']}` "
            f"(CV {', '.join(f'{k} {v:.3f}' for k, v in s['cv_unseen'].items())}); questions with train "
            f"answers `{s['seen_questions_model']}` (CV {', '.join(f'{k} {v:.3f}' for k, v in s['cv_seen'].items())})"
        )
    lines += ["", "Data: SemEval-2013 Task 7 (Dzikovska et al. 2013), CC BY-SA 3.0."]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def robustness_sections(report: dict[str, Any]) -> list[str]:
    rows = []
    for pack in report.get("packs", [report]):
        for kind, e in pack["summary"].items():
            extra = ""
            if "kept_grade" in e:
                extra = f"{e['kept_grade']}/{e['n']} kept grade ±1"
            if "lost_grade" in e:
                extra = f"{e['lost_grade']}/{e['n']} lost grade, {e['named_misconception']}/{e['n']} named"
            rows.append(
                [pack.get("company", ""), kind, str(e["n"]), f"{e['mean_grade']:.2f}", str(e["max_grade"]), extra]
            )
    return _table(["pack", "case", "n", "mean grade", "max grade", "notes"], rows)


def write_robustness_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    verdict = "passed" if report["passed"] else f"FAILED ({len(report['failures'])} problems)"
    lines = [
        "# Robustness suite",
        "",
        f"Seed {report['seed']}: {verdict}. Attacks must earn <= 1 (mean <= 0.5); model answers >= 3.",
        "",
        *robustness_sections(report),
    ]
    if report["failures"]:
        lines += ["## Failures", "", *(f"- {f}" for f in report["failures"]), ""]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
