"""Record the stock forward passes' outputs that the packed passes are checked against at load.

    .venv/bin/python scripts/record_model_checks.py

The grader runs the packaged sentence model and the judge with its own packed pass, read without
sentence-transformers or transformers (``grader/engine/bert_checkpoint.py``). Before trusting the
pass it compares it with what those libraries' own forward passes give on a few check inputs. Those
outputs are recorded here, once, so loading never imports the libraries:
- ``grader/engine/encoder_check.json``: sentence-transformers' vectors of the encoder's check texts;
- ``grader/engine/judge_weights/check.json``: the judge network's verdicts on its check pairs
  (``scripts/train_judge.py`` rewrites it with new weights).
Run it after changing the check inputs or the weights; ``tests/engine/test_model_checks.py`` fails
while a record is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import encoder as encoder_module  # noqa: E402
from grader.engine import judge as judge_module  # noqa: E402


def record_encoder_check() -> Path:
    model = encoder_module._load_stock_model(encoder_module.packaged_model_path())
    record = {
        "model": encoder_module.PACKAGED_MODEL_NAME,
        "texts": list(encoder_module.FAST_PATH_CHECK_TEXTS),
        "max_tokens": encoder_module.FAST_PATH_CHECK_MAX_TOKENS,
        "vectors": encoder_module.stock_check_vectors(model).tolist(),
    }
    encoder_module.ENCODER_CHECK_PATH.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return encoder_module.ENCODER_CHECK_PATH


def record_judge_check(weights_path: Path = judge_module.JUDGE_WEIGHTS_PATH) -> Path:
    from safetensors.torch import load_file

    base = encoder_module.packaged_model_path()
    model = judge_module.build_model(base)
    model.load_state_dict(load_file(str(weights_path)), strict=False)
    return judge_module.record_check(model.eval(), judge_module.judge_tokenizer(base), weights_path)


def main() -> None:
    for path in (record_encoder_check(), record_judge_check()):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
