"""Session commands: ``history``, ``export``, ``regrade``, ``progress``, ``backup`` (no terminal UI needed).

``grader/cli.py`` loads them lazily, by name, so start-up never pays for what a command does not use.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader.engine.loader import LoadedPack, RubricError, UnknownNameError, load_company
from grader.store import SessionNotFoundError, SessionRecord, Store

if TYPE_CHECKING:
    from grader.engine.encoder import Encoder
    from grader.interview.report import Report

MISSED_TOP = 10
WIDE_TABLE = 100
CHART_MARKERS = ("•", "x", "o", "+", "*")


class UserError(click.ClickException):
    """Bad input from the command line: one line on stderr, exit 2, no traceback."""

    exit_code = 2


def make_encoder() -> Encoder:
    """The encoder ``regrade`` grades with: the packaged model, unless the tests' hook names a fake.

    Tests replace this function (or set ``MOCKINT_TEST_ENCODER``, shared with the TUI) so regrading
    runs without loading sentence-transformers.
    """
    from grader.engine.encoder import SentenceTransformerEncoder
    from grader.tui.launch import encoder_factory_from_env

    factory = encoder_factory_from_env()
    return factory() if factory is not None else SentenceTransformerEncoder()


def open_store() -> Store:
    """The store, with anything the opening found (a recovered answer, an unclean shutdown) said on stderr."""
    store = Store()
    for notice in store.notices:
        click.echo(f"mockint: {notice}", err=True)
    return store


def report_damage(store: Store) -> None:
    """One stderr line per stored row that could not be read and was skipped."""
    for line in store.damaged:
        click.echo(f"mockint: skipped a damaged row: {line}", err=True)


def _session(store: Store, session_id: str) -> SessionRecord:
    try:
        return store.session(session_id)
    except SessionNotFoundError as exc:
        raise UserError(f"SESSION: {exc}") from None


class _Packs:
    """Packs by company, loaded once per command; ``None`` when a pack is gone or broken."""

    def __init__(self) -> None:
        self._packs: dict[str, LoadedPack | None] = {}
        self.errors: dict[str, str] = {}

    def get(self, company: str) -> LoadedPack | None:
        if company not in self._packs:
            try:
                self._packs[company] = load_company(company)
            except (UnknownNameError, RubricError) as exc:
                self._packs[company] = None
                self.errors[company] = str(exc)
        return self._packs[company]

    def require(self, company: str) -> LoadedPack:
        pack = self.get(company)
        if pack is None:
            raise click.ClickException(f"cannot load the {company} pack: {self.errors[company]}")
        return pack


def _report(store: Store, pack: LoadedPack, session: SessionRecord) -> Report:
    from grader.interview.report import build_report

    return build_report(pack, store.turns(session.id), store.latest_grades(session.id), session=session)


def _local_time(timestamp: str) -> str:
    return datetime.fromisoformat(timestamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _fmt_grade(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} / 4"


# -- history --------------------------------------------------------------------------------------


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
@click.option("--limit", type=click.IntRange(min=1), help="Show only the newest N sessions.")
def history(as_json: bool, limit: int | None) -> None:
    """Past sessions, newest first: date, id, company, mode, rounds, overall grade and status."""
    from grader.interview.report import grade_summary

    packs = _Packs()
    rows: list[dict[str, Any]] = []
    with open_store() as store:
        for session in store.sessions(limit=limit):
            pack = packs.get(session.company)
            figures = _report(store, pack, session).figures if pack is not None else None
            rows.append({
                **session.to_dict(),
                # One definition of each figure (grader.interview.report.SessionFigures), as in review.
                "answers": figures.answered if figures else None,
                "questions": figures.questions if figures else None,
                "skipped": figures.skipped if figures else None,
                "overall_grade": figures.mean_grade if figures else None,
                "hire_signal": figures.hire_signal if figures and figures.has_signal else None,
                "grade_summary": grade_summary(figures),
            })
        report_damage(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No sessions yet. Start one with: mockint start --company pinterest")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    # An 80-column terminal (tmux's default) cannot hold every cell in full: there the date loses
    # its year and the rounds become a count. The id never wraps: it is what users copy.
    narrow = console.width < WIDE_TABLE
    companies = {row["company"] for row in rows}
    single = next(iter(companies)) if len(companies) == 1 else None
    title = f"mockint sessions: {single}" if single else "mockint sessions"
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False,
                  title=title, caption="Overall grade: mean 0-4 and hire signal. Review: mockint review SESSION")
    table.add_column("Date", no_wrap=True)
    table.add_column("Session", no_wrap=True)
    if not single:
        table.add_column("Company", no_wrap=True)
    table.add_column("Mode", no_wrap=True)
    table.add_column("Rounds", justify="right" if narrow else "left")
    table.add_column("Overall grade")
    table.add_column("Status", no_wrap=True)
    for row in rows:
        grade = row["grade_summary"]
        rounds = str(len(row["round_ids"])) if narrow else "\n".join(row["round_ids"])
        date = _local_time(row["started_at"])
        status = {"in-progress": "open", "finished": "done"}.get(row["status"], row["status"]) if narrow \
            else row["status"]
        cells = [date[5:] if narrow else date, row["id"], *([] if single else [row["company"]]), row["mode"],
                 rounds, grade, status]
        table.add_row(*cells)
    console.print(table)


# -- export ---------------------------------------------------------------------------------------


@click.command()
@click.argument("session_id", metavar="SESSION")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True,
              help="Markdown transcript for GitHub, or JSON for tools.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def export(session_id: str, fmt: str, output: Path | None) -> None:
    """Export a session (id or unique prefix): transcript, grades with evidence, and the report."""
    from grader.interview.coding_summary import coding_summaries, render_coding_markdown
    from grader.interview.report import render_markdown
    from grader.safe_text import safe_markdown

    with open_store() as store:
        session = _session(store, session_id)
        pack = _Packs().require(session.company)
        report = _report(store, pack, session)
        runs = store.code_runs(session.id)
        coding = coding_summaries(report, runs)
        if fmt == "md":
            # Published as written: no terminal escapes, no raw HTML, no script links from an answer.
            text = safe_markdown(render_markdown(report) + ("\n" + render_coding_markdown(coding) if coding else ""))
        else:
            grades = store.latest_grades(session.id)
            payload = {
                "session": session.to_dict(),
                "turns": [
                    {**turn.to_dict(), "grade": grades[turn.id].to_dict() if turn.id in grades else None}
                    for turn in store.turns(session.id)
                ],
                "report": {key: value for key, value in report.to_dict().items() if key != "session"},
                # The coding round: per question, then every run and submission with its code and verdicts.
                "coding": {"questions": [summary.to_dict() for summary in coding],
                           "runs": [run.to_dict() for run in runs]},
            }
            # ensure_ascii=False keeps accents readable; control characters are still \u-escaped.
            text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        report_damage(store)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--output: cannot write {output}: {exc.strerror}") from None
        click.echo(f"Wrote {output}", err=True)


# -- regrade --------------------------------------------------------------------------------------


@click.command()
@click.argument("session_id", metavar="[SESSION]", required=False)
@click.option("--all", "regrade_all", is_flag=True,
              help="Regrade every answer with the current rubric and model (earlier grades are kept).")
def regrade(session_id: str | None, regrade_all: bool) -> None:
    """Grade answers stored without a grade, in SESSION or in every session.

    With --all, regrade every answer instead. Grades are appended: the earlier ones stay in the
    database with the model and rubric version that produced them.
    """
    from grader.engine.calibration import CalibrationMissingError
    from grader.engine.encoder import ModelUnavailableError
    from grader.engine.grading import grader_for_pack

    with open_store() as store:
        target = _session(store, session_id).id if session_id else None
        turns = store.answers(target) if regrade_all else store.ungraded_answers(target)
        if not turns:
            click.echo("Nothing to regrade: every answer has a grade." if not regrade_all else "No answers stored.")
            return
        companies = {sid: store.session(sid).company for sid in {turn.session_id for turn in turns}}
        packs = _Packs()
        by_company: dict[str, list[Any]] = defaultdict(list)
        skipped: list[str] = []
        for turn in turns:
            pack = packs.get(companies[turn.session_id])
            question = pack.questions.get(turn.question_id or "") if pack is not None else None
            if question is None:
                why = packs.errors.get(companies[turn.session_id], "question no longer in the pack")
                skipped.append(f"turn {turn.id} ({turn.question_id}): {why}")
                continue
            by_company[companies[turn.session_id]].append((turn, question))
        graded = 0
        model_id = ""
        try:
            encoder = make_encoder() if by_company else None
            for company, items in by_company.items():
                grader = grader_for_pack(packs.require(company), encoder)
                model_id = grader.model_id
                results = grader.grade_many([(question, turn.text) for turn, question in items])
                for (turn, _), result in zip(items, results, strict=True):
                    store.record_grade(turn.id, result)
                    graded += 1
        except (ModelUnavailableError, CalibrationMissingError) as exc:
            raise click.ClickException(f"cannot grade: {exc}") from None
    sessions = len({turn.session_id for items in by_company.values() for turn, _ in items})
    if graded:
        click.echo(f"Graded {graded} answer(s) in {sessions} session(s) with {model_id}.")
    else:
        click.echo("No answer could be graded.")
    for line in skipped:
        click.echo(f"Skipped {line}", err=True)


# -- progress -------------------------------------------------------------------------------------


def _counts_for_progress(session: SessionRecord, *, practice: bool) -> bool:
    """Finished interviews always; practice sessions (finished or not) only when asked for."""
    if session.mode == "practice":
        return practice
    return session.finished


def _progress_data(store: Store, pack: LoadedPack, *, practice: bool = False) -> dict[str, Any]:
    """Per session the mean grade of each round, and per point how often it was missed, oldest first.

    Round means are the report's (``RoundReport.mean_grade``: the last attempt of each question,
    skips count 0), so the chart says what each session's report said. Abandoned interviews are
    left out, and practice sessions unless ``practice``.
    """
    company = pack.company
    sessions: list[dict[str, Any]] = []
    round_ids: list[str] = []
    for session in reversed(store.sessions(company=company)):
        if not _counts_for_progress(session, practice=practice):
            continue
        report = _report(store, pack, session)
        rounds = {r.round_id: r.mean_grade for r in report.rounds if r.mean_grade is not None}
        if not rounds:
            continue
        round_ids += [rid for rid in rounds if rid not in round_ids]
        sessions.append({"id": session.id, "started_at": session.started_at, "mode": session.mode,
                         "finished": session.finished, "rounds": rounds})
    included = {session["id"] for session in sessions}

    rows = [row for row in store.point_history(company) if row.session_id in included]
    last_turn: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.session_id, row.question_id)
        last_turn[key] = max(last_turn.get(key, 0), row.seq)
    rows = [row for row in rows if row.seq == last_turn[(row.session_id, row.question_id)]]
    points: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        point = points.setdefault((row.question_id, row.point_id), {
            "question_id": row.question_id, "point_id": row.point_id, "title": row.title,
            "weight": row.weight, "graded": 0, "missed": 0, "history": [],
        })
        point["graded"] += 1
        point["missed"] += 0 if row.covered else 1
        point["history"].append(row.covered)
    missed = sorted((p for p in points.values() if p["missed"]),
                    key=lambda p: (-p["missed"], -p["missed"] / p["graded"], -p["weight"]))
    return {"company": company, "rounds": round_ids, "sessions": sessions, "missed_points": missed}


def _chart(data: dict[str, Any], width: int, plain: bool) -> str:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, 16)
    if plain:
        plt.theme("clear")
    sessions = data["sessions"]
    xs = list(range(1, len(sessions) + 1))
    for index, rid in enumerate(data["rounds"]):
        points = [(x, s["rounds"][rid]) for x, s in zip(xs, sessions, strict=True) if rid in s["rounds"]]
        # A distinct marker per round keeps the lines apart when colours are off (piped output).
        plt.plot([x for x, _ in points], [y for _, y in points], label=rid,
                 marker=CHART_MARKERS[index % len(CHART_MARKERS)])
    plt.ylim(0, 4)
    plt.yticks([0, 1, 2, 3, 4])
    step = max(1, len(xs) // 8)  # at most ~8 labels, so they never overlap
    labels = [f"#{x} {datetime.fromisoformat(s['started_at']).astimezone():%m-%d}" for x, s in zip(xs, sessions,
                                                                                                   strict=True)]
    plt.xticks(xs[::step], labels[::step])
    plt.title(f"{data['company']}: mean grade per round, as in each report (skips count 0)")
    plt.xlabel("session (number, month-day)")
    return plt.build()


@click.command()
@click.option("--company", help="Only this company's sessions (default: every company with graded answers).")
@click.option("--practice", is_flag=True,
              help="Include practice sessions (finished or not). By default only finished interviews count.")
@click.option("--top", type=click.IntRange(min=1), default=MISSED_TOP, show_default=True,
              help="How many of the most often missed points to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON instead of a chart.")
def progress(company: str | None, practice: bool, top: int, as_json: bool) -> None:
    """Progress across finished interviews: each round's mean grade as a chart, and the points most often missed.

    Round means are the ones each session's report shows (skips count 0). Abandoned interviews
    never count; practice sessions count with --practice.
    """
    packs = _Packs()
    with open_store() as store:
        companies = [company] if company else sorted({s.company for s in store.sessions()})
        data = [_progress_data(store, pack, practice=practice)
                for name in companies if (pack := packs.get(name)) is not None]
        report_damage(store)
    for name, error in packs.errors.items():
        click.echo(f"Skipped {name}: cannot load its pack: {error}", err=True)
    data = [d for d in data if d["sessions"]]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        where = f" for {company}" if company else ""
        what = "graded sessions" if practice else "finished interviews with graded answers"
        hint = "" if practice else " (practice sessions count with --practice)"
        click.echo(f"No {what} yet{where}{hint}. Start one with: mockint start --company pinterest")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    plain = not sys.stdout.isatty()
    for item in data:
        if len(item["sessions"]) > 1:
            click.echo(_chart(item, min(console.width, 100), plain))
        else:
            # One session is a point per round, all at the same x: a table says it without overlap.
            (only,) = item["sessions"]
            click.echo(f"{item['company']}: one session so far ({only['id']}); the trend chart starts at two.")
            for rid, mean in only["rounds"].items():
                click.echo(f"  {rid}: {mean:.1f} / 4")
        table = Table(title=f"{item['company']}: points most often missed")
        for column in ("Question", "Point", "Missed", "Trend (oldest → newest)"):
            table.add_column(column)
        for point in item["missed_points"][:top]:
            trend = "".join("✓" if covered else "✗" for covered in point["history"])
            table.add_row(point["question_id"], point["title"], f"{point['missed']} of {point['graded']}", trend)
        if item["missed_points"]:
            console.print(table)
        else:
            click.echo("No point missed in any graded answer.")


# -- backup ---------------------------------------------------------------------------------------


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
def backup(file: Path | None) -> None:
    """Copy the whole database, including answers not yet folded in from mockint.db-wal, to FILE.

    Safe while an interview is running (SQLite's online backup API). FILE defaults to
    backups/mockint-DATE-TIME.db in the mockint folder; an existing FILE is never overwritten.
    Copying mockint.db by hand can miss the newest answers, which live in mockint.db-wal.
    """
    with open_store() as store:
        if file is None:
            file = store.path.parent / "backups" / f"mockint-{datetime.now():%Y%m%d-%H%M%S}.db"
        if file.exists():
            raise UserError(f"FILE: {file} already exists; choose another name (mockint never overwrites it)")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            store.backup(file)
        except OSError as exc:
            raise UserError(f"FILE: cannot write {file}: {exc.strerror}") from None
        sessions = len(store.sessions())
    click.echo(f"Backed up {sessions} session(s) to {file}")
