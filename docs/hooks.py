"""MkDocs hooks that turn the repository into the course website (see mkdocs.yml).

Nothing here copies a document by hand: every page is one of the repository's own files, included at
build time, or is generated from them.

- docs/*.md are pages as they are; README.md is the home page, lessons/README.md the lessons' index,
  benchmarks/README.md and benchmarks/results/**.md the results, mounted at the same paths they have in
  the repository (a README.md becomes that folder's index.md).
- README.md's sections "Coming from PyTorch" and "Moving to PyTorch" become pages of their own, cut out
  of README.md at every build.
- Each lesson (lessons/NN_*.py) is executed as a notebook: in quick mode (TINYGAN_QUICK=1, MPLBACKEND=Agg)
  by default, from full runs with TINYGAN_DOCS_FULL=1 (or `python -m docs build --full`). mkdocs-jupyter
  renders the executed notebooks, with their figures and PASS/FAIL lines. Executed notebooks are kept in a
  cache keyed by the lesson, the engine's sources and the mode, so an unchanged lesson is not run again.
- Each source file that the docs link to, and each file that holds a `# [formula: id]` marker, gets a page
  with its code, line numbers and the marked lines highlighted; the formula map's "file:" links land on the
  marked line (`#__codelineno-0-N`), and its "test:" names link to the test's `def` line.
- Links between the included files are rewritten from repository paths to the site's pages.
- MathJax 3 comes from the sphinx-mathjax-offline package and is copied into the site (no CDN).
"""
from __future__ import annotations

import fnmatch
import hashlib
import html
import json
import logging
import os
import posixpath
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

from docs.kernels import run_in_a_kernel

log = logging.getLogger("mkdocs.hooks.tinygan")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Repository files mounted as pages (repository path -> site path); README.md files become index.md.
MOUNT_GLOBS = ["README.md", "lessons/README.md", "benchmarks/README.md", "benchmarks/results/**/*.md",
               "benchmarks/results/**/*.png"]
# README.md sections that become pages of their own: (heading, site path).
README_SECTIONS = [("Coming from PyTorch", "pytorch/coming-from-pytorch.md"),
                   ("Moving to PyTorch", "pytorch/moving-to-pytorch.md")]
# The public API, one reference page each: (site path, module, title).
API = [("tinygan", "tinygan", "tinygan (the top level)"), ("nn", "tinygan.nn", "tinygan.nn"),
       ("functional", "tinygan.functional", "tinygan.functional"), ("optim", "tinygan.optim", "tinygan.optim"),
       ("utils-data", "tinygan.utils.data", "tinygan.utils.data"), ("data", "tinygan.data", "tinygan.data"),
       ("distributions", "tinygan.distributions", "tinygan.distributions"),
       ("models", "tinygan.models", "tinygan.models"), ("train", "tinygan.train", "tinygan.train"),
       ("evaluation", "tinygan.evaluation", "tinygan.evaluation")]
MARKER = re.compile(r"#\s*\[formula:\s*([A-Za-z0-9_.-]+)\s*\]")
LINK = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()([^)\s]+)(\))")
IMG_SRC = re.compile(r'(<img\s[^>]*?src=")([^"]+)(")')          # an HTML image in a page's markdown (the README's gallery)

_state: dict = {}


# ----------------------------------------------------------------------------------------------- lessons

def lesson_mode() -> str:
    return "full" if os.environ.get("TINYGAN_DOCS_FULL", "") not in ("", "0") else "quick"


def _engine_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tinygan").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_root() -> Path:
    return Path(os.environ.get("TINYGAN_DOCS_CACHE") or ROOT / ".cache" / "docs")


def _lesson_key(lesson: Path, engine: str, mode: str) -> str:
    """What an executed notebook of a lesson depends on: the engine's sources, the mode and the lesson's text."""
    return hashlib.sha256((engine + mode + lesson.read_text()).encode()).hexdigest()


def _cache_folder(cache: Path, mode: str) -> Path:
    """Where a cache keeps the lessons executed in `mode`: a folder named lessons, so that its notebooks are
    lessons/NN_*.ipynb, as mkdocs-jupyter's include pattern reads."""
    return cache / mode / "lessons"


def _cached(cache: Path, mode: str, lesson: Path) -> tuple[Path, Path]:
    """(the executed notebook, the file holding its key) of a lesson in a cache."""
    folder = _cache_folder(cache, mode)
    return folder / f"{lesson.stem}.ipynb", folder / f"{lesson.stem}.key"


def store_executed_lesson(lesson: Path, notebook: Path, cache: Path) -> None:
    """Put a quick-mode notebook of `lesson` executed elsewhere (the notebook test's run of the documented
    `jupytext --execute`) into `cache`, so that a build with TINYGAN_DOCS_CACHE=cache shows it instead of
    executing the lesson again."""
    target, stamp = _cached(cache, "quick", lesson)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(notebook.read_bytes())
    stamp.write_text(_lesson_key(lesson, _engine_digest(), "quick"))


def execute_lessons() -> dict[str, Path]:
    """Execute every lesson as a notebook (two at a time), or take it from the cache; {stem: ipynb}."""
    mode = lesson_mode()
    engine = _engine_digest()
    lessons = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    todo, done = [], {}
    for path in lessons:
        key = _lesson_key(path, engine, mode)
        notebook, stamp = _cached(cache_root(), mode, path)
        done[path.stem] = notebook
        if not (notebook.exists() and stamp.exists() and stamp.read_text() == key):
            todo.append((path, notebook, stamp, key))
    if not todo:
        return done
    _cache_folder(cache_root(), mode).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline",  # Agg, shown inline
               TINYGAN_LESSON_OUTPUT=str(cache_root() / "lesson-output" / mode),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    jobs = int(os.environ.get("TINYGAN_DOCS_JOBS") or min(2, os.cpu_count() or 1))
    if mode == "quick":
        env["TINYGAN_QUICK"] = "1"
    else:
        env.pop("TINYGAN_QUICK", None)
    if jobs > 1:  # one BLAS thread per lesson when lessons share the cores
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
    log.info("executing %d lesson(s) in %s mode, %d at a time", len(todo), mode, jobs)

    def run(item):
        path, notebook, stamp, key = item
        start = time.perf_counter()
        proc = run_in_a_kernel([sys.executable, "-m", "docs", "run-lesson", str(path), str(notebook)],
                               cwd=ROOT, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"lesson {path.name} failed in {mode} mode:\n{proc.stdout}\n{proc.stderr}")
        stamp.write_text(key)
        log.info("lesson %s: %.1f s", path.stem, time.perf_counter() - start)

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(run, todo))
    return done


def run_lesson(source: str, target: str) -> None:
    """Execute one lesson script as a notebook in its own folder and write the executed notebook."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    timeout = None if lesson_mode() == "full" else 900
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(source).parent)}}).execute()
    notebook.metadata["tinygan"] = {"mode": lesson_mode(), "source": str(Path(source).relative_to(ROOT))}
    Path(target + ".tmp").write_text(json.dumps(notebook, indent=1))
    os.replace(target + ".tmp", target)


# ------------------------------------------------------------------------------------ pages and mounts

def _site_path(repo_path: str) -> str:
    """Where a repository file lives in the site (before any page for it exists)."""
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    if posixpath.basename(repo_path) == "README.md":
        return posixpath.join(posixpath.dirname(repo_path), "index.md")
    if re.fullmatch(r"lessons/\d\d_[^/]+\.py", repo_path):
        return repo_path[:-3] + ".ipynb"
    if repo_path.endswith(".py"):
        return "source/" + repo_path + ".md"
    return repo_path


def _marker_lines(path: Path) -> dict[str, int]:
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in MARKER.finditer(line):
            found.setdefault(match.group(1), number)
    return found


def _source_page(repo_path: str) -> str:
    """A page with a source file's code, line numbers, and its formula markers and named tests highlighted."""
    path = ROOT / repo_path
    text = path.read_text(encoding="utf-8")
    formulas = _marker_lines(path) if repo_path.startswith("tinygan/") else {}  # tests hold markers as data
    lines = _state["highlight"].get(repo_path, set()) | set(formulas.values())
    fence = "`" * max(4, max((len(m) for m in re.findall(r"`{3,}", text)), default=0) + 1)
    head = [f"---\nsearch:\n  exclude: true\n---\n\n# `{repo_path}`\n"]
    if formulas:
        head.append("Formulas computed here (the highlighted lines): " + ", ".join(
            f"[`{fid}`](#__codelineno-0-{n}) (line {n}, [in the map]({_rel('formulas.md', _site_path(repo_path))}#{fid}))"
            for fid, n in sorted(formulas.items(), key=lambda item: item[1])) + ".\n")
    hl = f' hl_lines="{" ".join(map(str, sorted(lines)))}"' if lines else ""
    return "\n".join(head) + f'\n{fence} python linenums="1"{hl}\n{text}\n{fence}\n'


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    if not match:
        raise RuntimeError(f"README.md has no section '{title}'")
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    body = rest[:end.start()] if end else rest
    body = re.sub(r"^(#+) ", lambda m: "#" * max(2, len(m.group(1)) - level + 1) + " ", body, flags=re.M)
    return f"# {title}\n\n<small>From [the README](../index.md), where this section lives.</small>\n{body}"


def _gallery() -> str:
    parts = ["# Gallery\n", "One figure from each lesson's full run (the lessons' own pages show their quick-mode "
             "figures, drawn during the build), then the pictures of the README and the results.\n"]
    for image in sorted((DOCS / "images" / "lessons").glob("*.png")):
        lesson = ROOT / "lessons" / (image.stem + ".py")
        title = image.stem
        if lesson.exists():
            found = re.search(r"^# # (.+)$", lesson.read_text(encoding="utf-8"), re.M)
            title = found.group(1) if found else title
            parts.append(f"## [{title}](lessons/{image.stem}.ipynb)\n")
        else:
            parts.append(f"## {title}\n")
        parts.append(f"![{title}](images/lessons/{image.name})\n")
    parts.append("## From the README and the results\n")
    for image in sorted((DOCS / "images").glob("*.png")):
        parts.append(f"![{image.stem}](images/{image.name})\n")
    for image in sorted((ROOT / "benchmarks" / "results").rglob("*.png")):
        rel = image.relative_to(ROOT).as_posix()
        parts.append(f"![{rel}]({rel})\n")
    return "\n".join(parts)


def _folder_index(repo_dir: str) -> str:
    """A page for a folder without a README: its pages and pictures."""
    parts = [f"# Everything in `{repo_dir}/`\n"]
    for path in sorted((ROOT / repo_dir).rglob("*")):
        rel = path.relative_to(ROOT / repo_dir).as_posix()
        if path.suffix == ".md":
            parts.append(f"- [`{rel}`]({_rel(_site_path(f'{repo_dir}/{rel}'), _site_path(repo_dir) + '/index.md')})")
        elif path.suffix == ".png":
            parts.append(f"- `{rel}`\n\n    ![{rel}]({rel})\n")
    return "\n".join(parts) + "\n"


def _rel(target: str, from_page: str) -> str:
    """A link from the markdown page `from_page` to the site file `target` (both site paths)."""
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def _add(files: Files, config, src_uri: str, *, content: str | None = None, abs_src_path: str | None = None):
    if files.get_file_from_path(src_uri) is not None:
        return
    if content is not None:
        files.append(File.generated(config, src_uri, content=content))
    else:
        files.append(File.generated(config, src_uri, abs_src_path=abs_src_path))


@event_priority(100)  # before mkdocs-jupyter, which wraps the notebooks added here
def on_files(files: Files, config) -> Files:
    _state.clear()
    _state["origin"] = {}      # site path of a page -> the repository file it comes from
    _state["highlight"] = {}   # repository path -> extra lines to highlight (named tests)
    for file in files:
        if file.src_uri.endswith(".md"):
            _state["origin"][file.src_uri] = "docs/" + file.src_uri
    # repository files mounted as they are
    for pattern in MOUNT_GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            repo_path = path.relative_to(ROOT).as_posix()
            site = _site_path(repo_path)
            _add(files, config, site, abs_src_path=str(path))
            _state["origin"][site] = repo_path
    # README sections
    for title, site in README_SECTIONS:
        _add(files, config, site, content=_readme_section(title))
        _state["origin"][site] = "README.md"
    # executed lessons
    for stem, notebook in execute_lessons().items():
        # a File read from the cache folder (mkdocs-jupyter's wrapper does not read generated files)
        if files.get_file_from_path(f"lessons/{stem}.ipynb") is None:
            files.append(File(f"lessons/{stem}.ipynb", str(notebook.parent.parent), config["site_dir"],
                              config["use_directory_urls"]))
        _state["origin"][f"lessons/{stem}.ipynb"] = f"lessons/{stem}.py"
    # API reference
    for site, module, title in API:
        _add(files, config, f"reference/{site}.md",
             content=f"# {title}\n\n::: {module}\n")
    _add(files, config, "reference/index.md", content="# API reference\n\nGenerated from the docstrings.\n\n" +
         "\n".join(f"- [`{module}`]({site}.md)" for site, module, _ in API) + "\n")
    _add(files, config, "gallery.md", content=_gallery())
    _add(files, config, "benchmarks/results/index.md", content=_folder_index("benchmarks/results"))
    # source pages: every file with formula markers, every test the formula map names, every linked file
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tinygan").rglob("*.py")
               if MARKER.search(p.read_text(encoding="utf-8"))}
    formulas = (DOCS / "formulas.md").read_text(encoding="utf-8")
    for test_file, test_name in re.findall(r"`(tests/[\w/]+\.py)::(\w+)", formulas):
        if (ROOT / test_file).exists():
            sources.add(test_file)
            line = _def_line(test_file, test_name)
            if line:
                _state["highlight"].setdefault(test_file, set()).add(line)
    for origin in list(_state["origin"].values()):
        if origin.endswith((".md", ".py")) and (ROOT / origin).is_file():
            for target in _linked_repo_files(origin):
                if target.endswith(".py") and not target.startswith("lessons/"):
                    sources.add(target)
                elif not target.endswith(".md") and files.get_file_from_path(_site_path(target)) is None:
                    _add(files, config, _site_path(target), abs_src_path=str(ROOT / target))
    for repo_path in sorted(sources):
        _add(files, config, _site_path(repo_path), content=_source_page(repo_path))
    # MathJax 3, from the sphinx-mathjax-offline package: the one script and its fonts
    static = mathjax_dir()
    for path in [static / "tex-chtml-full.js", *sorted((static / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))]:
        _add(files, config, "assets/mathjax/" + path.relative_to(static).as_posix(), abs_src_path=str(path))
    # nav entries with a "*" are expanded over the pages
    config["nav"] = _expand_nav(config["nav"], [f.src_uri for f in files if f.is_documentation_page()
                                                or f.src_uri.endswith(".ipynb")])
    return files


def mathjax_dir() -> Path:
    """MathJax 3 as the sphinx-mathjax-offline package installs it (a data folder, not a module)."""
    from importlib.metadata import distribution
    path = Path(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax"))
    if not (path / "tex-chtml-full.js").is_file():
        raise RuntimeError(f"no MathJax in {path}: pip install -e '.[docs]'")
    return path


def _def_line(repo_path: str, name: str) -> int | None:
    for number, line in enumerate((ROOT / repo_path).read_text(encoding="utf-8").splitlines(), 1):
        if re.match(rf"\s*def {re.escape(name)}\(", line):
            return number
    return None


def _linked_repo_files(origin: str) -> list[str]:
    text = (ROOT / origin).read_text(encoding="utf-8")
    found = []
    for match in LINK.finditer(text):
        target = _resolve(origin, match.group(2))
        if target and (ROOT / target).is_file():
            found.append(target)
    return found


def _resolve(origin: str, url: str) -> str | None:
    """The repository path a relative link in the repository file `origin` points at, or None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) or url.startswith(("#", "/")):
        return None
    path = url.split("#", 1)[0]
    if not path:
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))
    return None if resolved.startswith("..") else resolved


def _expand_nav(nav, pages):
    """mkdocs.yml's nav with each pattern replaced by the pages it matches; a * stays within one folder, so
    "benchmarks/results/*.md" lists the main result pages and not every run's folder."""
    out = []
    for item in nav or []:
        if isinstance(item, str) and "*" in item:
            out.extend(sorted(p for p in pages if fnmatch.fnmatch(p, item) and p.count("/") == item.count("/")))
        elif isinstance(item, dict):
            out.append({k: _expand_nav(v, pages) if isinstance(v, list) else v for k, v in item.items()})
        else:
            out.append(item)
    return out


# ----------------------------------------------------------------------------------------- link rewriting

def _site_target(origin: str, url: str, files: Files) -> str | None:
    """The site path a repository link points at, with its fragment, or None to leave the link alone."""
    repo_path = _resolve(origin, url)
    if repo_path is None:
        return None
    fragment = "#" + url.split("#", 1)[1] if "#" in url else ""
    if (ROOT / repo_path).is_dir():
        if files.get_file_from_path(_site_path(repo_path.rstrip("/") + "/README.md")):
            return _site_path(repo_path.rstrip("/") + "/README.md") + fragment
        if repo_path == "docs/images/lessons":
            return "gallery.md"
        if files.get_file_from_path(_site_path(repo_path) + "/index.md"):
            return _site_path(repo_path) + "/index.md"
        return None
    site = _site_path(repo_path)
    return site + fragment if files.get_file_from_path(site) else None


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    src = page.file.src_uri
    origin = _state["origin"].get(src)
    if origin is None:
        return markdown

    def rewrite(match):
        target = _site_target(origin, match.group(2), files)
        if target is None:
            return match.group(0)
        return match.group(1) + _rel(target.split("#")[0], src) + ("#" + target.split("#", 1)[1] if "#" in target else "") + match.group(3)

    if src == "formulas.md":
        markdown = _formula_map(markdown, files)
    return IMG_SRC.sub(rewrite, LINK.sub(rewrite, markdown))


def _formula_map(markdown: str, files: Files) -> str:
    """Point each entry's "file:" link at its marked line, and each named test at its `def` line."""
    out, current = [], None
    for line in markdown.splitlines():
        heading = re.match(r"^### `([^`]+)`\s*$", line)
        if heading:
            current = heading.group(1)
        elif line.startswith("## "):
            current = None
        if current and line.startswith("- file:"):
            def to_line(match):
                repo_path = _resolve("docs/formulas.md", match.group(2))
                if not repo_path or not (ROOT / repo_path).is_file():
                    return match.group(0)
                number = _marker_lines(ROOT / repo_path).get(current)
                anchor = f"#__codelineno-0-{number}" if number else ""
                return f"{match.group(1)}{_rel(_site_path(repo_path), 'formulas.md')}{anchor}{match.group(3)}"
            line = LINK.sub(to_line, line)
        if line.startswith(("- test:", "- demonstration:")):
            def to_test(match):
                test_file, name = match.group(1), match.group(2)
                number = _def_line(test_file, name) if (ROOT / test_file).exists() else None
                if not number:
                    return match.group(0)
                return f"[`{test_file}::{name}`]({_site_path(test_file)}#__codelineno-0-{number})"
            line = re.sub(r"`(tests/[\w/]+\.py)::(\w+)`", to_test, line)
        out.append(line)
    return "\n".join(out) + "\n"


_ATTR = re.compile(r'((?:href|src)=")([^"]+)(")')


def on_page_content(html_text: str, page, config, files: Files) -> str:
    src = page.file.src_uri
    if not src.endswith(".ipynb"):
        return html_text
    # mkdocs-jupyter puts MathJax and mermaid from a CDN into each notebook: the site loads its own MathJax
    html_text = re.sub(r"<script[^>]*>\s*</script>", lambda m: "" if re.search(r'src="https?://', m.group(0))
                       else m.group(0), html_text)
    html_text = re.sub(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", "", html_text, flags=re.S)
    html_text = re.sub(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{'
                       r'.*?</script>', lambda m: "" if "mermaid" in m.group(0) else m.group(0), html_text, flags=re.S)
    _fix_notebook_toc(page, html_text)
    origin = _state["origin"].get(src)

    def rewrite(match):
        url = html.unescape(match.group(2))
        target = _site_target(origin, url, files) if origin else None
        if target is None:
            return match.group(0)
        path, _, fragment = target.partition("#")
        file = files.get_file_from_path(path)
        new = get_relative_url(file.url or ".", page.url) + ("#" + fragment if fragment else "")
        return match.group(1) + html.escape(new) + match.group(3)

    return _ATTR.sub(rewrite, html_text)


def _fix_notebook_toc(page, html_text: str) -> None:
    """mkdocs-jupyter's table of contents drops inline code from headings ("in `eval()` mode" becomes
    "in mode") and so names anchors the page does not have: take ids and titles from the headings."""
    headings = re.findall(r'<h([1-6]) id="([^"]+)">(.*?)<a class="anchor-link"', html_text, re.S)
    items, stack = [], list(page.toc)
    while stack:
        item = stack.pop(0)
        items.append(item)
        stack[0:0] = list(item.children)
    if len(items) != len(headings):
        log.warning("%s: %d headings but %d table-of-contents entries", page.file.src_uri, len(headings), len(items))
        return
    for item, (_, anchor, title) in zip(items, headings):
        item.id = anchor
        item.title = html.escape(html.unescape(re.sub(r"<[^>]+>", "", title)).strip(), quote=False)
