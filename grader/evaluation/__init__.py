"""The evaluation harness: human agreement beside baselines, SemEval-2013, and robustness attacks.

Uses the engine's public API only; ``cli.eval_command`` is the ``mockint eval`` command.
"""
