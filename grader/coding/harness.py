"""Stage two of the sandbox: load the candidate's code and call its function on each test's arguments.

Runs as ``python -I -S -c <this source>`` inside the limits the launcher set. It reads one JSON
payload on standard input (the source, the function name, the arguments of each test: never the
expected values, which stay with mockint) and writes one JSON line per event to the result pipe.
Return values are compared by mockint, not here, so nothing in this process decides a verdict.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback

PRINT_KEEP = 2000
"""Characters of each test's printed output sent back (the rest is counted, not kept)."""
VALUE_LIMIT = 1_000_000
"""Bytes of JSON a return value may take."""
SOLUTION_FILE = "solution.py"


class CappedWriter(io.TextIOBase):
    """``sys.stdout`` during a test: keeps the first characters, counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = PRINT_KEEP - self.size
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def take(self) -> tuple[str, int]:
        text, size = "".join(self.kept), self.size
        self.kept, self.size = [], 0
        return text, size


def _plain(value: object, depth: int = 0) -> object:
    """The return value as JSON data; tuples become lists, sets sorted lists. Raises TypeError."""
    if depth > 50:
        raise TypeError("nested more than 50 levels deep")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, set | frozenset):
        items = [_plain(item, depth + 1) for item in value]
        try:
            return sorted(items)  # type: ignore[type-var]
        except TypeError:
            return items
    if isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()}
    raise TypeError(f"a {type(value).__name__}, which is not plain data (return lists, numbers, strings)")


def _where(exc: BaseException) -> str:
    """``line N`` of the deepest frame in the candidate's file, if the error passed through it."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == SOLUTION_FILE]
    return f" (solution.py line {lines[-1]})" if lines else ""


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}{': ' + text[:300] if text else ''}{_where(exc)}"


def main() -> None:
    payload = json.loads(sys.stdin.read())
    sys.stdin.close()
    out = os.fdopen(payload["result_fd"], "w", buffering=1)

    def emit(**event: object) -> None:
        out.write(json.dumps(event) + "\n")

    real_stdout = sys.stdout
    capture = CappedWriter()
    try:
        code = compile(payload["source"], SOLUTION_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        emit(event="error", kind="syntax", message=f"SyntaxError: {exc.msg} (solution.py line {exc.lineno})")
        return
    namespace: dict[str, object] = {"__name__": "solution", "__file__": SOLUTION_FILE}
    sys.stdout = capture
    try:
        exec(code, namespace)
    except MemoryError:
        sys.stdout = real_stdout
        emit(event="error", kind="memory", message="MemoryError while loading solution.py")
        return
    except BaseException as exc:  # anything the module does at import, SystemExit included
        sys.stdout = real_stdout
        emit(event="error", kind="import", message=f"{_describe(exc)} while loading solution.py")
        return
    sys.stdout = real_stdout
    function = namespace.get(payload["function"])
    if not callable(function):
        emit(event="error", kind="missing", message=f"solution.py defines no function {payload['function']}()")
        return
    emit(event="loaded")
    for index, args in enumerate(payload["tests"]):
        emit(event="start", index=index)
        sys.stdout = capture
        status, message, value = "returned", "", None
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            value = function(*args)
        except MemoryError:
            status, message = "memory", "MemoryError: ran out of memory"
        except RecursionError as exc:
            status, message = "error", _describe(exc)
        except BaseException as exc:
            status, message = "error", _describe(exc)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sys.stdout = real_stdout
        printed, printed_size = capture.take()
        encoded = None
        if status == "returned":
            try:
                encoded = json.dumps(_plain(value))
            except (TypeError, ValueError) as exc:
                status, message = "error", f"returned {exc}"
            except RecursionError:
                status, message = "error", "returned a value nested too deeply"
            if encoded is not None and len(encoded) > VALUE_LIMIT:
                message = f"returned {len(encoded):,} bytes of data (limit {VALUE_LIMIT:,})"
                status, encoded = "error", None
        emit(event="result", index=index, status=status, message=message,
             value=encoded, printed=printed, printed_size=printed_size,
             wall_ms=round(wall * 1000, 3), cpu_ms=round(cpu * 1000, 3))
        value = None
    emit(event="done")


if __name__ == "__main__":
    main()
