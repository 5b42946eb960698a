"""Every lesson, converted to a notebook with jupytext, runs in a Jupyter kernel in quick mode: no error,
every check PASS, and the figures it saves shown inline. Needs the `notebook` extra
(`pip install -e '.[notebook]'`: jupytext, nbclient, ipykernel); skipped without it."""
import pytest

from test_lessons import LESSONS

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


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


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_a_kernel_with_its_figures_inline(lesson, tmp_path, monkeypatch):
    for variable, value in (("TINYGAN_QUICK", "1"), ("TINYGAN_LESSON_OUTPUT", str(tmp_path)),
                            ("OPENBLAS_NUM_THREADS", "1"), ("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1")):
        monkeypatch.setenv(variable, value)        # the kernel inherits this process's environment
    notebook = jupytext.read(lesson)
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text, images = outputs_of(notebook)
    assert "ERROR" not in text and "FAIL" not in text, text[-3000:]
    assert "PASS" in text, "a lesson must end with checks that print PASS/FAIL"
    if "savefig(" in lesson.read_text():
        assert images >= 1, f"{lesson.name} saves figures but showed none inline"
