"""The lessons as notebooks, as lessons/README.md tells a learner to open and run them: every command of its
notebook block is installed by the `notebook` extra, and every lesson, with `QUICK = True` set in its first code
cell as a notebook user would (no environment variable), runs through the documented `jupytext --execute`
command: no error, every check PASS, and the figures it saves shown inline.
Needs the `notebook` extra (`pip install -e '.[notebook]'`); skipped where jupytext is not installed at all."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from test_lessons import LESSONS, QUICK_LINE, run_selected

pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

# Against a hang only: a lesson's quick mode takes seconds, but a loaded machine may take many times that,
# and a slow run must never fail on this limit.
HANG_LIMIT_S = 30 * 60

from docs.kernels import lost_its_port, run_in_a_kernel
from paths import REPO
BIN = Path(sys.executable).parent                 # where the extra put its programs (jupytext, jupyter)


def documented_commands():
    """The command lines of lessons/README.md's shell blocks that follow its `## As notebooks` heading."""
    text = (REPO / "lessons" / "README.md").read_text().split("## As notebooks", 1)
    assert len(text) == 2, "lessons/README.md has no '## As notebooks' section"
    section = re.split(r"\n## ", text[1], maxsplit=1)[0]
    lines = [line.split(" #")[0].strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)
             for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line]


def environment(**extra):
    """This process's environment without TINYGAN_QUICK, its programs first on PATH, one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if k not in ("TINYGAN_QUICK", "MPLBACKEND")}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", **extra)
    return env


def test_the_extra_installs_every_documented_notebook_command():
    """`pip install -e '.[notebook]'`, then `jupyter lab` and `jupytext --execute`: each program is there."""
    commands = documented_commands()
    assert commands[0][:3] == ["pip", "install", "-e"] and commands[0][3].endswith("[notebook]"), commands[0]
    assert any(words[:2] == ["jupyter", "lab"] for words in commands), "no command opens the lessons in Jupyter"
    for words in commands[1:]:
        program = words[:2] if words[0] == "jupyter" else words[:1]
        done = subprocess.run([*program, "--version"], capture_output=True, text=True, env=environment(),
                              timeout=HANG_LIMIT_S)
        assert done.returncode == 0, f"{' '.join(program)}: {done.stderr[-2000:]}"


def test_only_a_kernel_that_lost_its_port_is_started_again():
    """The run is started again for the port race alone: a lesson's own error, or a clean run, is kept."""
    def run(returncode, stderr):
        return subprocess.CompletedProcess(["jupytext"], returncode, "", stderr)
    race = ("zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:50619')\n"
            "RuntimeError: Kernel died before replying to kernel_info")
    assert lost_its_port(run(1, race))
    assert not lost_its_port(run(0, race))
    assert not lost_its_port(run(1, "ValueError: Linear: expected input of shape (N, 784), got (N, 10)"))
    assert not lost_its_port(run(1, "RuntimeError: Kernel died before replying to kernel_info"))


def outputs_of(notebook):
    """(all printed text, number of inline images) of an executed notebook."""
    text, images = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text.append(output.get("text", ""))
            elif output.get("output_type") == "error":
                text.append(f"ERROR {output.get('ename')}: {output.get('evalue')}")
            images += "image/png" in output.get("data", {})
    return "".join(text), images


@pytest.fixture(scope="module")
def notebook_runs(request, tmp_path_factory):
    """Every lesson this session tests, with QUICK = True set in a copy (the learner's edit of the first code cell)
    and run through the documented `jupytext --execute` command, two at a time: {lesson: (CompletedProcess, the
    executed notebook's path)}."""
    [execute] = [words for words in documented_commands() if words[0] == "jupytext" and "--execute" in words]
    [documented_lesson] = [word for word in execute if re.fullmatch(r"lessons/\d\d_\w+\.py", word)]

    def run(lesson):
        folder = tmp_path_factory.mktemp(lesson.stem)
        copy = folder / lesson.name
        copy.write_text(re.sub(QUICK_LINE, "QUICK = True", lesson.read_text(), count=1, flags=re.M))
        command = [str(copy) if word == documented_lesson else word for word in execute]
        done = run_in_a_kernel(command, cwd=folder, timeout=HANG_LIMIT_S,
                               env=environment(TINYGAN_LESSON_OUTPUT=str(folder / "output")))
        return done, copy.with_suffix(".ipynb")
    return run_selected(request, "test_lesson_runs_as_a_notebook_in_quick_mode_with_its_figures_inline", run)


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_as_a_notebook_in_quick_mode_with_its_figures_inline(lesson, notebook_runs, executed_lessons):
    source = lesson.read_text()
    assert re.search(QUICK_LINE, source, flags=re.M), f"{lesson.name} has no 'QUICK = False' line"
    done, executed = notebook_runs[lesson]
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = nbformat.read(str(executed), as_version=4)
    text, images = outputs_of(notebook)
    assert "(quick mode" in text, text[:500]
    assert "ERROR" not in text and "FAIL" not in text, text[-3000:]
    assert "PASS" in text, "a lesson must end with checks that print PASS/FAIL"
    if "savefig(" in source:
        assert images >= 1, f"{lesson.name} saves figures but showed none inline"
    share_with_the_website_test(lesson, executed, executed_lessons)


def share_with_the_website_test(lesson, notebook, cache):
    """Keep the executed notebook for the website's build in this session (tests/docs/test_site.py), where the
    docs extra is installed."""
    try:
        from docs.hooks import store_executed_lesson
    except ImportError:                       # no mkdocs: there is no website to build
        return
    store_executed_lesson(lesson, notebook, cache)
