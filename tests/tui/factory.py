"""Builds the TUI app for tests with everything injected: a tmp store, the tiny acme pack, a fake
encoder, and a frozen clock, so Pilot runs are fast and snapshots are stable (posting's pattern).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from grader.engine.calibration import Calibration, write_calibration
from grader.engine.encoder import Encoder, ModelUnavailableError
from grader.engine.loader import LoadedPack, load_company
from grader.store import Store
from grader.tui.app import MockintApp, Purpose
from tests.fakes import HashingEncoder

PACKS_SOURCE = Path(__file__).parent / "packs"
SIZE = (100, 32)
"""Terminal size for most snapshots."""
SMALL = (80, 24)
"""The smallest common terminal (tmux's default): snapshots that check the layout still works there."""
TINY = (40, 12)
"""A split pane: the question must still be readable."""

FAKE_CALIBRATION = Calibration(
    model_id="fake-hashing",
    coverage_slope=20.0,
    coverage_intercept=-11.0,  # covered from a similarity of 0.55: shared words, as the fake sees meaning
    grade_cutpoints=(20.0, 45.0, 65.0, 85.0),
    misconception_threshold=0.75,
    fitted_on="hand-set for the TUI tests",
)


@functools.cache
def packs_dir() -> Path:
    """The test packs copied to a temp folder with a calibration for the fake encoder.

    Written from a ``Calibration`` object rather than committed as JSON, so the file always has
    the fields the engine currently expects.
    """
    target = Path(tempfile.mkdtemp(prefix="mockint-packs-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    shutil.copytree(PACKS_SOURCE, target, dirs_exist_ok=True)
    for pack in target.iterdir():
        write_calibration(pack / "calibration.json", FAKE_CALIBRATION)
    return target


REAL_CALIBRATION = Calibration(
    model_id="all-MiniLM-L6-v2",
    coverage_slope=14.0,
    coverage_intercept=-8.4,  # covered from a cosine similarity of 0.6
    grade_cutpoints=(20.0, 45.0, 65.0, 85.0),
    fitted_on="hand-set for the TUI tests",
)


@functools.cache
def real_packs_dir() -> Path:
    """The test packs with a hand-set calibration for the packaged model, for real-model tests."""
    target = Path(tempfile.mkdtemp(prefix="mockint-real-packs-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    shutil.copytree(PACKS_SOURCE, target, dirs_exist_ok=True)
    for pack in target.iterdir():
        write_calibration(pack / "calibration.json", REAL_CALIBRATION)
    return target


def acme_pack(packs: Path | None = None) -> LoadedPack:
    return load_company("acme", packs or packs_dir())


class FrozenClock:
    """A clock tests move by hand; snapshots see 0:00 forever unless a test advances it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fake_encoder() -> Encoder:
    return HashingEncoder()


def broken_encoder() -> Encoder:
    raise ModelUnavailableError("test: the model package is not installed")


class GatedEncoderFactory:
    """An encoder whose loading waits until the test opens the gate: the 'loading grader' state."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def __call__(self) -> Encoder:
        if not self.gate.wait(timeout=30):
            raise ModelUnavailableError("test: gate never opened")
        return HashingEncoder()


def make_app(
    store: Store,
    *,
    mode: str = "interview",
    round_ids: list[str] | None = None,
    session_id: str | None = None,
    purpose: Purpose = "interview",
    encoder_factory: Callable[[], Encoder] | None = fake_encoder,
    clock: Callable[[], float] | None = None,
    cursor_blink: bool = False,
    packs: Path | None = None,
    company: str = "acme",
) -> MockintApp:
    """The app for a new session (or the given one), with the acme pack (or ``company``'s) and fakes.

    ``encoder_factory=None`` means the real packaged model; pass ``packs=real_packs_dir()`` with it.
    """
    packs = packs or packs_dir()
    pack = load_company(company, packs)
    if session_id is None and purpose == "interview":
        session_id = store.create_session(company, mode, round_ids or [r.id for r in pack.pack.rounds])
    return MockintApp(
        store=store,
        loaded_pack=pack,
        session_id=session_id,
        purpose=purpose,
        encoder_factory=encoder_factory,
        clock=clock or FrozenClock(),
        pack_loader=lambda company: load_company(company, packs),
        cursor_blink=cursor_blink,
    )
