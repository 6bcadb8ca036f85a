"""The ``mockint`` console script and ``python -m grader``: the command line, started with the
garbage collector paused (see ``grader.startup``)."""

from __future__ import annotations

from grader.startup import pause_collection


def main() -> None:
    pause_collection()
    from grader.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
