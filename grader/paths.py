"""Where mockint keeps its files, resolved at call time so tests can point it elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "MOCKINT_HOME"


def user_dir() -> Path:
    """``$MOCKINT_HOME`` when set, else the platform's user data directory for mockint."""
    override = os.environ.get(HOME_ENV)
    path = Path(override) if override else Path(platformdirs.user_data_dir("mockint", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Embedding caches: under ``$MOCKINT_HOME`` when set, else the platform's user cache directory."""
    override = os.environ.get(HOME_ENV)
    base = Path(override) / "cache" if override else Path(platformdirs.user_cache_dir("mockint", appauthor=False))
    base.mkdir(parents=True, exist_ok=True)
    return base
