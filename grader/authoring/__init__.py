"""Pack authoring: scaffolding a pack from an interview report, trying a question, linting a rubric."""
