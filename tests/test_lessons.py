"""Every lesson runs in quick mode, and every check it prints passes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parents[1] / "lessons").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, tmp_path):
    # One BLAS thread: tiny matrices gain nothing from two, and on a busy 2-core machine
    # two OpenBLAS threads spin against each other (a toy GAN step: 121 ms instead of 14 ms).
    env = dict(os.environ, TINYGAN_QUICK="1", TINYGAN_LESSON_OUTPUT=str(tmp_path), MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(lesson)], capture_output=True, text=True, env=env, timeout=120,
                            cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "FAIL" not in result.stdout, output[-3000:]
    assert "PASS" in result.stdout, "a lesson must end with checks that print PASS/FAIL"


def test_lessons_exist_in_order():
    """Numbered from 01, each number once (a number may wait for its lesson: the issues fix them in advance)."""
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers[0] == 1 and len(set(numbers)) == len(numbers), [p.name for p in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_opens_as_a_notebook_with_its_kernel(lesson):
    """The jupytext header names the kernel, so Jupyter opens the lesson without asking for one."""
    head = lesson.read_text().split("# ---\n", 2)
    assert lesson.read_text().startswith("# ---\n# jupyter:") and "kernelspec:" in head[1] and "name: python3" in head[1]


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_a_lesson_that_draws_links_a_figure_of_its_full_run(lesson):
    """A quick-mode learner sees what full training draws: docs/images/lessons/<lesson>.png, linked from the lesson."""
    if "savefig(" not in lesson.read_text():
        pytest.skip(f"{lesson.name} draws no figure")
    figure = lesson.parents[1] / "docs" / "images" / "lessons" / f"{lesson.stem}.png"
    assert figure.is_file() and f"docs/images/lessons/{lesson.stem}.png" in lesson.read_text()
