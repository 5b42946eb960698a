"""The quality results: quality.json (every experiment's entry, with when, how and where it ran) and quality.md,
the page written from it, one section per experiment."""
import json
import os
import platform
from pathlib import Path

import numpy as np

from tinygan import backend

from ..report import shown_command

# Options that say only where an experiment's files went; the page shows its command without them.
RESULT_OPTIONS = ("--runs", "--results")


def machine(load_at_start):
    """The machine an experiment ran on: platform, versions, CPUs, backend, load, BLAS thread settings."""
    return {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "backend": backend.current(),
            "load_average_at_start": load_at_start,
            "blas_threads": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                             if k in os.environ}}


def write_json(results, path):
    Path(path).write_text(json.dumps(results, indent=2, default=_plain))


def _plain(value):
    """JSON for NumPy scalars and booleans."""
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_markdown(results, experiments, path):
    """quality.md from quality.json's `results`: a section per experiment of `experiments` ({name: Experiment}),
    in its order, with the experiment's own table and its checks."""
    lines = ["# Quality benchmarks", "",
             "Written by `python -m benchmarks.quality` from `quality.json`; each section says how and on what it ran. "
             "Experiments missing here were not run.", ""]
    for name, experiment in experiments.items():
        if name not in results:
            lines += [f"## {name}", "", "not run", ""]
            continue
        entry = results[name]
        lines += [f"## {name}", "", f"{entry['recipe']}", "",
                  f"wall time {entry['wall_seconds']} s, command `{shown_command(entry['command'], RESULT_OPTIONS)}`; "
                  f"{entry['machine']['cpus']} CPUs, load average at start {entry['machine']['load_average_at_start']} "
                  f"(a shared machine: times are upper bounds)", ""]
        lines += experiment.markdown(entry)
        if entry.get("checks"):
            lines += ["", "checks: " + "; ".join(f"{k}: {'pass' if v else 'FAIL'}" for k, v in entry["checks"].items())]
        lines.append("")
    Path(path).write_text("\n".join(lines))
