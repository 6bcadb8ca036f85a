"""Shared fixtures: every test gets its own MOCKINT_HOME so nothing touches the user's files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.fakes import HashingEncoder

REPO = Path(__file__).resolve().parents[1]


def script_module(name: str) -> ModuleType:
    """scripts/<name>.py as a module (scripts/ is not a package); its main() is not run."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_judge_script() -> ModuleType:
    """scripts/train_judge.py as a module; no training is run."""
    return script_module("train_judge")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "mockint-home"
    monkeypatch.setenv("MOCKINT_HOME", str(home))
    monkeypatch.delenv("MOCKINT_PACKS", raising=False)  # the developer's own packs stay out of the tests
    return home


@pytest.fixture
def fake_encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture(scope="session")
def real_encoder():
    """The packaged all-MiniLM-L6-v2, loaded once for every real-model test."""
    from grader.engine.encoder import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder()
    encoder.load()
    return encoder
