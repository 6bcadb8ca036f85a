"""``mockint start / resume / review``: bad input exits 2 with one line naming the argument."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.store import Store
from grader.tui import launch
from tests.tui.factory import packs_dir


@pytest.fixture(autouse=True)
def _acme_rubrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKINT_RUBRICS", str(packs_dir()))


def test_start_unknown_company_lists_the_packs() -> None:
    result = CliRunner().invoke(cli, ["start", "--company", "acmee"])
    assert result.exit_code == 2
    assert "unknown company 'acmee'" in result.output
    assert "packs: acme" in result.output
    assert "Traceback" not in result.output


def test_start_unknown_round_is_named() -> None:
    result = CliRunner().invoke(cli, ["start", "--company", "acme", "--rounds", "screen,bogus"])
    assert result.exit_code == 2
    assert "unknown round 'bogus'" in result.output
    assert "screen, design" in result.output


def test_start_bad_mode_exits_2() -> None:
    result = CliRunner().invoke(cli, ["start", "--company", "acme", "--mode", "exam"])
    assert result.exit_code == 2
    assert "--mode" in result.output


def test_resume_without_unfinished_session_says_how_to_start() -> None:
    result = CliRunner().invoke(cli, ["resume"])
    assert result.exit_code == 1
    assert "no unfinished session" in result.output


def test_resume_of_a_finished_session_points_to_review() -> None:
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        store.finish_session(session_id)
    result = CliRunner().invoke(cli, ["resume", session_id])
    assert result.exit_code == 2
    assert f"mockint review {session_id}" in result.output


def test_review_unknown_session_exits_2() -> None:
    result = CliRunner().invoke(cli, ["review", "nope"])
    assert result.exit_code == 2
    assert "SESSION" in result.output and "no such session" in result.output


def test_rounds_are_parsed_in_the_order_given() -> None:
    pack = launch.load_pack_or_exit("acme")
    assert launch.parse_rounds(pack, "design, screen") == ["design", "screen"]
    assert launch.parse_rounds(pack, None) == ["screen", "design"]


def test_test_encoder_hook_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(launch.TEST_ENCODER_ENV, raising=False)
    assert launch.encoder_factory_from_env() is None
    monkeypatch.setenv(launch.TEST_ENCODER_ENV, "fake")
    factory = launch.encoder_factory_from_env()
    assert factory is not None and factory().model_id == "fake-hashing"


def test_the_ui_path_never_imports_torch_or_sentence_transformers() -> None:
    """Start-up must stay under a second: the model's libraries load only in the grader's worker."""
    code = (
        "import sys\n"
        "import grader.cli, grader.tui.launch, grader.tui.app, grader.tui.screens, grader.tui.widgets\n"
        "import grader.tui.report_view, grader.interview, grader.store, grader.engine.grading\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
