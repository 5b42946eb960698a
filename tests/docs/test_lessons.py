"""Every lesson runs in quick mode, and every check it prints passes; a notebook user turns quick mode on in
the lesson's first code cell."""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from paths import REPO

LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.py"))
QUICK_LINE = r"^QUICK = False\b"          # the line a notebook user edits to QUICK = True

# Against a hang only: a lesson's quick mode takes seconds, but a loaded machine may take many times that,
# and a slow run must never fail on this limit.
HANG_LIMIT_S = 30 * 60
# Lessons run as processes with one BLAS thread each, so two at a time keep both cores of the 2-core machine busy.
LESSONS_AT_ONCE = 2


def run_selected(request, test_name, run, param="lesson"):
    """{value: run(value)} for each value of `param` whose `test_name[...]` this session runs, LESSONS_AT_ONCE at
    a time."""
    wanted = [item.callspec.params[param] for item in request.session.items
              if getattr(item, "originalname", None) == test_name and hasattr(item, "callspec")]
    with ThreadPoolExecutor(LESSONS_AT_ONCE) as pool:
        return dict(zip(wanted, pool.map(run, wanted)))


@pytest.fixture(scope="module")
def quick_runs(request, tmp_path_factory):
    """Every lesson this session tests, run as a script in quick mode, two at a time: {lesson: CompletedProcess}."""
    def run(lesson):
        folder = tmp_path_factory.mktemp(lesson.stem)
        # One BLAS thread: tiny matrices gain nothing from two, and on a busy 2-core machine
        # two OpenBLAS threads spin against each other (a toy GAN step: 121 ms instead of 14 ms).
        env = dict(os.environ, TINYGAN_QUICK="1", TINYGAN_LESSON_OUTPUT=str(folder), MPLBACKEND="Agg",
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        return subprocess.run([sys.executable, str(lesson)], capture_output=True, text=True, env=env,
                              timeout=HANG_LIMIT_S, cwd=folder)
    return run_selected(request, "test_lesson_runs_in_quick_mode", run)


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_quick_mode(lesson, quick_runs):
    result = quick_runs[lesson]
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


def first_code_cell(lesson):
    """The source of the lesson's first code cell (percent format: after the header and the markdown cells)."""
    cells = re.split(r"^# %%", lesson.read_text(), flags=re.M)[1:]
    return next(cell.split("\n", 1)[1] for cell in cells if not cell.startswith(" [markdown]"))


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_quick_mode_is_one_line_of_the_first_code_cell(lesson, tmp_path, monkeypatch):
    """A notebook has no --quick: the first code cell holds `QUICK = False`, and editing it to True gives quick
    mode without an environment variable. The cell runs up to the line that makes the Lesson."""
    cell = first_code_cell(lesson)
    assert len(re.findall(QUICK_LINE, cell, flags=re.M)) == 1, f"{lesson.name}: its first code cell has no QUICK line"
    head = cell[:cell.index("\n", cell.index("lesson = Lesson("))]
    monkeypatch.delenv("TINYGAN_QUICK", raising=False)
    monkeypatch.setenv("TINYGAN_LESSON_OUTPUT", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["kernel"])
    for quick in (False, True):
        namespace = {}
        exec(compile(re.sub(QUICK_LINE, f"QUICK = {quick}", head, flags=re.M), str(lesson), "exec"), namespace)
        assert namespace["lesson"].quick is quick, f"{lesson.name}: QUICK = {quick} gave quick={not quick}"


def test_subprocess_limits_fail_only_on_a_hang():
    """Every test that starts a process with a time limit (lessons, notebooks, benchmark and quality commands)
    gives it HANG_LIMIT_S (at least 20 minutes), never a limit that a slow run on a busy machine could reach."""
    limited = [path for path in sorted((REPO / "tests").rglob("*.py")) if "timeout=" in path.read_text()]
    assert {path.name for path in limited} >= {"test_lessons.py", "test_notebooks.py", "test_benchmarks.py"}
    for path in limited:
        name, text = path.name, path.read_text()
        [limit] = re.findall(r"^HANG_LIMIT_S = ([\d *]+?) *(?:#.*)?$", text, flags=re.M)
        assert eval(limit) >= 20 * 60, f"{name}: HANG_LIMIT_S = {limit}"
        assert set(re.findall(r"timeout=(\w+)", text)) == {"HANG_LIMIT_S"}, f"{name}: a subprocess with another limit"
