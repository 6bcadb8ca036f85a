"""What ``mockint start``, ``resume`` and ``review`` run: argument checks, then the Textual app.

Kept free of Textual imports at module level so ``mockint --help`` stays instant; the app is
imported only when a command actually opens it.

Test hook: ``MOCKINT_TEST_ENCODER``
    For tests only (the kill-and-resume test, the latency benchmark's fake run). When set, the
    grader uses this encoder instead of the packaged sentence model:

    - ``fake``: ``tests.fakes.HashingEncoder`` (the repository root must be importable, e.g. via
      ``PYTHONPATH``); its grades are meaningless outside tests.
    - ``unavailable``: the model "fails to load", to exercise the grading-unavailable path.
    - ``module:Class``: any importable encoder class.

    Never set it in real use: a fake encoder's grades mean nothing.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from grader.engine.loader import LoadedPack, RubricError, UnknownNameError, load_company
from grader.startup import freeze_start_up
from grader.store import SessionNotFoundError, SessionRecord, Store

if TYPE_CHECKING:
    from grader.engine.encoder import Encoder
    from grader.tui.app import MockintApp

TEST_ENCODER_ENV = "MOCKINT_TEST_ENCODER"
MODES = ("interview", "practice")


def encoder_factory_from_env() -> Callable[[], Encoder] | None:
    """The encoder named by ``$MOCKINT_TEST_ENCODER`` (tests only), else None for the real model."""
    spec = os.environ.get(TEST_ENCODER_ENV, "").strip()
    if not spec:
        return None
    # Imported here: the encoder module pulls in numpy, which the first screen does not need.
    from grader.engine.encoder import ModelUnavailableError

    if spec == "unavailable":

        def unavailable() -> Encoder:
            raise ModelUnavailableError(f"disabled by {TEST_ENCODER_ENV}=unavailable")

        return unavailable
    if spec == "fake":
        spec = "tests.fakes:HashingEncoder"
    module_name, _, class_name = spec.partition(":")

    def build() -> Encoder:
        try:
            return getattr(importlib.import_module(module_name), class_name)()
        except (ImportError, AttributeError) as exc:
            raise ModelUnavailableError(f"{TEST_ENCODER_ENV}={spec!r} cannot be imported: {exc}") from exc

    return build


def load_pack_or_exit(company: str) -> LoadedPack:
    try:
        return load_company(company)
    except UnknownNameError as exc:
        raise click.BadParameter(str(exc), param_hint="'--company'") from None
    except RubricError as exc:
        error = click.ClickException(f"the {company} pack has an error: {exc}")
        error.exit_code = 2  # bad input, as for every rubric error
        raise error from None


def parse_rounds(pack: LoadedPack, rounds: str | None) -> list[str]:
    """``--rounds a,b`` as round ids in the order given; every round not marked optional when omitted."""
    known = [r.id for r in pack.pack.rounds]
    if not rounds:
        return pack.pack.default_round_ids
    chosen = [part.strip() for part in rounds.split(",") if part.strip()]
    unknown = [rid for rid in chosen if rid not in known]
    if unknown or not chosen:
        what = f"unknown round {', '.join(repr(u) for u in unknown)}" if unknown else "no round given"
        raise click.BadParameter(f"{what}; rounds of {pack.company}: {', '.join(known)}", param_hint="'--rounds'")
    return chosen


def build_app(
    store: Store,
    *,
    pack: LoadedPack | None,
    session_id: str | None,
    purpose: str,
    encoder_factory: Callable[[], Encoder] | None = None,
) -> MockintApp:
    from grader.tui.app import MockintApp

    freeze_start_up()  # imports and the pack; not the app, whose screens become garbage
    return MockintApp(
        store=store,
        loaded_pack=pack,
        session_id=session_id,
        purpose=purpose,  # type: ignore[arg-type]
        encoder_factory=encoder_factory if encoder_factory is not None else encoder_factory_from_env(),
    )


class NoTerminalError(click.ClickException):
    """One line on stderr, exit 2: the TUI cannot run without a terminal."""

    exit_code = 2

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"mockint: {self.message}", err=True)


def require_terminal(command: str) -> None:
    """Refuse before touching anything when there is no terminal to draw on or read keys from.

    Without this, Textual reading keys from a pipe or /dev/null spins at 100% CPU forever.
    """
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        if stream is None or not stream.isatty():
            raise NoTerminalError(f"mockint {command} needs a terminal, but {name} is not one; "
                                   "run it in a terminal window (not in a pipe, a script or cron)")


def run_start(company: str, mode: str, rounds: str | None) -> None:
    pack = load_pack_or_exit(company)
    round_ids = parse_rounds(pack, rounds)
    require_terminal("start")  # after the argument checks, before the database is touched
    with Store() as store:
        session_id = store.create_session(pack.company, mode, round_ids)
        app = build_app(store, pack=pack, session_id=session_id, purpose="interview")
        _run_interview(app)
        _after_run(store, session_id, app)


def run_resume(session: str | None) -> None:
    with Store() as store:
        if session is None:
            record = store.latest_unfinished()
            if record is None:
                raise click.ClickException("no unfinished session to resume; start one with: mockint start")
        else:
            record = _find_session(store, session)
            if record.finished:
                raise click.BadParameter(
                    f"session {record.id} is finished; see it with: mockint review {record.id}",
                    param_hint="'SESSION'",
                )
        pack = load_pack_or_exit(record.company)
        require_terminal("resume")
        app = build_app(store, pack=pack, session_id=record.id, purpose="interview")
        _run_interview(app)
        _after_run(store, record.id, app)


def run_review(session: str | None) -> None:
    with Store() as store:
        if session is None:
            require_terminal("review")
            build_app(store, pack=None, session_id=None, purpose="history").run()
            return
        record = _find_session(store, session)
        pack = load_pack_or_exit(record.company)
        require_terminal("review")
        build_app(store, pack=pack, session_id=record.id, purpose="review").run()


def _find_session(store: Store, session: str) -> SessionRecord:
    try:
        return store.session(session)
    except SessionNotFoundError as exc:
        raise click.BadParameter(str(exc), param_hint="'SESSION'") from None


def _run_interview(app: MockintApp) -> None:
    app.handle_stop_signals = True
    app.run()


def _after_run(store: Store, session_id: str, app: MockintApp) -> None:
    """One line after the app closes, so the terminal says how to continue or review; "saved" only if it was."""
    from grader.store import StoreError
    from grader.tui.safekeeping import exit_message

    try:
        finished: bool | None = store.session(session_id).finished
    except StoreError:
        finished = None
    message = exit_message(session_id, finished, app.unsaved)
    try:
        click.echo(message, err=app.unsaved is not None)
    except OSError:  # the terminal is gone (SIGHUP): the database and recovery file say it all
        return


# -- the click commands (registered by grader.session_cli.register) --------------------------------


@click.command()
@click.option("--company", "-c", required=True, help="The company pack to interview for, e.g. pinterest.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="interview",
    show_default=True,
    help="interview: follow-up probes, grades at the end. practice: feedback after every answer, retries.",
)
@click.option("--rounds", metavar="NAME,...",
              help="Only these rounds, in this order (default: every round but optional ones, such as coding).")
def start(company: str, mode: str, rounds: str | None) -> None:
    """Start a mock interview in the terminal.

    Enter starts a new line, Ctrl+S submits an answer, Ctrl+N skips (after asking), Ctrl+Q quits
    (the session is saved; `mockint resume` continues it). In practice mode, Enter moves on from
    the feedback and Ctrl+R retries the question.
    """
    run_start(company, mode, rounds)


@click.command()
@click.argument("session", required=False)
def resume(session: str | None) -> None:
    """Continue the latest unfinished session (or SESSION) at the exact step it stopped."""
    run_resume(session)


@click.command()
@click.argument("session", required=False)
def review(session: str | None) -> None:
    """Review a past session's transcript and report, read-only; without SESSION, pick from a list."""
    run_review(session)
