import pytest


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """Every test gets its own MOCKINT_HOME, so no test touches the user's database."""
    monkeypatch.setenv("MOCKINT_HOME", str(tmp_path / "home"))
