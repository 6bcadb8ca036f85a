"""Where mockint keeps its files, resolved at call time so tests can point it elsewhere."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

HOME_ENV = "MOCKINT_HOME"


def user_dir(*, create: bool = True) -> Path:
    """``$MOCKINT_HOME`` when set, else the platform's user data directory for mockint.

    ``create=False`` leaves creating it to the caller (the store checks it is a writable folder first).
    """
    override = os.environ.get(HOME_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir("mockint", appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def user_packs_dir() -> Path:
    """Rubric packs the user keeps outside the repository: ``packs/`` in the home folder (not created)."""
    return user_dir(create=False) / "packs"


def cache_dir() -> Path:
    """Embedding caches: under ``$MOCKINT_HOME`` when set, else the platform's user cache directory."""
    override = os.environ.get(HOME_ENV)
    base = Path(override) / "cache" if override else Path(platformdirs.user_cache_dir("mockint", appauthor=False))
    # The cache is optional: a read-only or odd home only means rubric texts are encoded every run.
    with contextlib.suppress(OSError):
        base.mkdir(parents=True, exist_ok=True)
    return base
