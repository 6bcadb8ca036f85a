"""JSON Schemas for rubric files, generated from the pydantic models so they never drift.

Editors (VS Code's YAML extension, for one) use them to check rubric files as they are typed;
a test fails when the committed schemas differ from what the models generate.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.engine.rubric import Pack, Question

SCHEMAS = {"pack.schema.json": Pack, "question.schema.json": Question}


def schema_text(model: type[Pack] | type[Question]) -> str:
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = folder / name
        path.write_text(schema_text(model), encoding="utf-8")
        written.append(path)
    return written
