"""Small helpers the lesson scripts share: quick mode, the output folder, and PASS/FAIL checks.

    from tinygan.teach import Lesson
    lesson = Lesson("04_convolution", quick=QUICK)   # quick if QUICK, --quick or TINYGAN_QUICK=1
    steps = 50 if lesson.quick else 2000
    lesson.check("gradient check of conv2d", ok, "max error 3e-9")
    lesson.savefig(fig, "im2col.png")       # lessons/output/04_convolution/im2col.png
    lesson.finish()                         # prints the summary; exit status 1 if any check failed
"""
import os
import sys


def in_notebook():
    """Whether this code runs in a Jupyter kernel (not a terminal IPython, not plain Python)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def default_output_root():
    """<checkout>/lessons/output when tinygan runs from its repository, whatever the working folder
    (a lesson run from inside lessons/, or opened as a notebook there, writes to the same place);
    ./lessons-output when tinygan is installed without its lessons. TINYGAN_LESSON_OUTPUT overrides both."""
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isdir(os.path.join(checkout, "lessons")):
        return os.path.join(checkout, "lessons", "output")
    return os.path.abspath("lessons-output")


class Lesson:
    """One lesson's settings and its record of checks."""

    def __init__(self, name, quick=False, argv=None):
        """quick -- tiny settings: a notebook's `QUICK = True`; a script also takes --quick or TINYGAN_QUICK=1."""
        argv = sys.argv[1:] if argv is None else argv
        self.name = name
        self.quick = quick or "--quick" in argv or os.environ.get("TINYGAN_QUICK", "") not in ("", "0")
        root = os.environ.get("TINYGAN_LESSON_OUTPUT") or default_output_root()
        self.output = os.path.join(root, name)
        os.makedirs(self.output, exist_ok=True)
        self.results = []
        mode = "quick mode: tiny settings, numbers are not the lesson's promises" if self.quick else "full mode"
        print(f"== lesson {name} ({mode}); figures go to {self.output}")

    def path(self, filename):
        """Where a figure or file of this lesson goes."""
        return os.path.join(self.output, filename)

    def savefig(self, figure, filename):
        """Save a matplotlib figure into the output folder, and show it inline when run in a notebook."""
        path = self.path(filename)
        figure.savefig(path, dpi=100, bbox_inches="tight")
        print(f"   figure: {path}")
        if in_notebook():                  # the lessons close their figures, so a kernel would show none
            from IPython.display import display
            display(figure)
        return path

    def check(self, what, passed, detail=""):
        """Print PASS or FAIL for one promise of the lesson."""
        passed = bool(passed)
        self.results.append((what, passed))
        print(f"{'PASS' if passed else 'FAIL'}: {what}" + (f" ({detail})" if detail else ""))
        return passed

    def finish(self):
        """Print the summary; from the shell, exit with status 1 if any check failed.

        In a notebook the summary names the failed checks instead: a SystemExit would show as a traceback.
        """
        failed = [what for what, passed in self.results if not passed]
        print(f"== {self.name}: {len(self.results) - len(failed)} of {len(self.results)} checks passed")
        if failed and in_notebook():
            print("FAILED checks:\n" + "\n".join(f"  - {what}" for what in failed))
        elif failed:
            sys.exit(1)
