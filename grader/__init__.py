"""mockint: an offline mock-interview coach that grades answers against expert rubrics."""

__version__ = "0.1.0"
