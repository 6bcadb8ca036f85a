"""Process settings made before a model loads (``encoder.prepare_model_environment``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = (
    "import numpy, threadpoolctl\n"
    "from grader.engine.encoder import prepare_model_environment\n"
    "prepare_model_environment()\n"
    "print(*[pool['num_threads'] for pool in threadpoolctl.threadpool_info() if pool['user_api'] == 'blas'])\n"
)


def blas_threads_after_set_up(**environment: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")} | environment
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    return [int(n) for n in done.stdout.split()]


def test_numpy_blas_runs_one_thread_once_a_model_is_set_up():
    # Its spare threads spin after grading's small products and slow the torch pass that follows.
    assert blas_threads_after_set_up() == [1]


def test_a_users_own_blas_thread_count_is_kept():
    # OpenBLAS caps its threads at the core count.
    expected = min(2, os.cpu_count() or 1)
    assert blas_threads_after_set_up(OPENBLAS_NUM_THREADS="2") == [expected]
    assert blas_threads_after_set_up(MKL_NUM_THREADS="2") == [expected]
