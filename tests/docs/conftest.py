import pytest


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory):
    """A cache of lesson notebooks executed in quick mode during this test session (docs/hooks.py's layout):
    the notebook test puts there what it executed, and the website test builds from it, so a session that runs
    both executes each lesson as a notebook once."""
    return tmp_path_factory.mktemp("executed-lessons")
