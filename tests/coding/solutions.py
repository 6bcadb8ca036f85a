"""Candidate solutions to pinterest.coding.top-k-frequent, one per outcome the acceptance list names.

Shared by the ``mockint code run`` tests and the TUI flow tests, so both assert the same outcomes.
"""

from __future__ import annotations

from pathlib import Path

QUESTION_ID = "pinterest.coding.top-k-frequent"

CORRECT = """\
from collections import Counter


def top_k_frequent(nums: list[int], k: int) -> list[int]:
    return [value for value, _ in Counter(nums).most_common(k)]
"""

WRONG = """\
def top_k_frequent(nums: list[int], k: int) -> list[int]:
    return nums[:k]
"""

ENDLESS_LOOP = """\
while True:
    pass
"""

MEMORY_BOMB = """\
def top_k_frequent(nums: list[int], k: int) -> list[int]:
    hoard = []
    while True:
        hoard.append(bytearray(10**7))
"""

FORK_BOMB = """\
import os


def top_k_frequent(nums: list[int], k: int) -> list[int]:
    while True:
        os.fork()
"""

HUGE_OUTPUT = """\
import os


def top_k_frequent(nums: list[int], k: int) -> list[int]:
    while True:
        os.write(1, b"spam" * 10000)
"""

SYNTAX_ERROR = """\
def top_k_frequent(nums: list[int], k: int) -> list[int]
    return nums
"""

PRINTS_INSTEAD = """\
from collections import Counter


def top_k_frequent(nums: list[int], k: int) -> list[int]:
    print([value for value, _ in Counter(nums).most_common(k)])
"""


def deletes(victim: Path) -> str:
    """Code that deletes ``victim`` (outside its working directory) as soon as it is loaded."""
    return f"""\
import os

os.remove({str(victim)!r})


def top_k_frequent(nums: list[int], k: int) -> list[int]:
    return []
"""
