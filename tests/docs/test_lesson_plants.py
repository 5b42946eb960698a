"""The lessons' checks catch the classic mistakes: each mistake of tests/plants.py is planted, one at a
time, by patching the function the lesson's checks go through, and that lesson's quick mode must then
end with a FAIL (or stop with an error); unplanted, the same runner passes."""
import os
import subprocess
import sys

import pytest

from plants import PLANTS
from test_lessons import run_selected

from paths import REPO

# Against a hang only: a lesson's quick mode takes seconds, but a loaded machine may take many times that, and
# a slow run must never fail on this limit.
HANG_LIMIT_S = 30 * 60


def run_lesson(plant, lesson, tmp_path):
    env = dict(os.environ, TINYGAN_QUICK="1", TINYGAN_LESSON_OUTPUT=str(tmp_path), MPLBACKEND="Agg",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(REPO / "tests" / "plants.py"), plant, str(REPO / "lessons" / f"{lesson}.py")],
                          capture_output=True, text=True, env=env, timeout=HANG_LIMIT_S, cwd=tmp_path)


def test_the_runner_passes_a_lesson_without_a_plant(tmp_path):
    result = run_lesson("none", "06_optimizers", tmp_path)
    assert result.returncode == 0 and "FAIL" not in result.stdout and "PASS" in result.stdout, result.stdout[-2000:]


@pytest.fixture(scope="module")
def planted_runs(request, tmp_path_factory):
    """Each plant this session tests, run in its lesson, two at a time: {plant: CompletedProcess}."""
    def run(plant):
        return run_lesson(plant, PLANTS[plant][0], tmp_path_factory.mktemp("planted"))
    return run_selected(request, "test_the_lesson_catches_the_planted_mistake", run, param="plant")


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_the_lesson_catches_the_planted_mistake(plant, planted_runs):
    lesson, _ = PLANTS[plant]
    result = planted_runs[plant]
    caught = result.returncode != 0 and ("FAIL" in result.stdout or "Error" in result.stderr)
    assert caught, f"{lesson} did not catch '{plant}':\n{result.stdout[-2000:]}\n{result.stderr[-1000:]}"
