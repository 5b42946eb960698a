"""tinygan/_moved.py: every old import path in MOVED fails with a message naming its new path, and every
new path imports."""
import importlib
import re
import subprocess
import sys

import pytest

import tinygan  # noqa: F401  (installs the finder)
from tinygan._moved import MOVED


def _moved_message(old):
    return "^" + re.escape(f"{old} moved to {MOVED[old]}") + "$"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_names_its_new_one(old):
    with pytest.raises(ModuleNotFoundError, match=_moved_message(old)):
        importlib.import_module(old)
    package, _, name = old.rpartition(".")
    with pytest.raises(ModuleNotFoundError, match=_moved_message(old)):   # not the vaguer "cannot import name"
        exec(f"from {package} import {name}", {})


@pytest.mark.parametrize("new", sorted(set(MOVED.values())))
def test_every_new_path_imports(new):
    assert importlib.import_module(new).__name__ == new


def test_an_old_path_is_named_in_a_fresh_process_before_tinygan_is_imported():
    old = sorted(MOVED)[0]
    done = subprocess.run([sys.executable, "-c", f"import {old}"], capture_output=True, text=True)
    assert done.returncode == 1 and f"ModuleNotFoundError: {old} moved to {MOVED[old]}" in done.stderr


def test_a_path_that_never_existed_gets_python_s_own_error():
    with pytest.raises(ModuleNotFoundError, match="No module named 'tinygan.no_such_module'"):
        importlib.import_module("tinygan.no_such_module")
