"""The course website in a real browser: build it, serve it on localhost, open it in headless Chromium.

Opt-in (marker `site`): `python -m pytest -m site tests/docs/test_site.py`, or TINYGAN_SITE=1, which CI sets
(.ci/run). Skips with a reason where a package of the docs extra (`pip install -e '.[docs]'`), Chromium or
chromedriver is missing (Debian: `apt-get install chromium chromium-driver`).

The build (`python -m docs build --site-dir TMP`) shows every lesson executed in quick mode in this session: the
notebooks the notebook test executed (tests/docs/test_notebooks.py), and the rest executed by the build itself
(TINYGAN_DOCS_CACHE=DIR builds from the lessons executed there instead). Screenshots of the home page, a lesson
and the formula map go to site-screenshots/ (git-ignored).
"""
from __future__ import annotations

import functools
import html.parser
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Against a hang only: the build executes every lesson, and a loaded machine may take many times its usual
# two minutes; a slow build must never fail on this limit.
HANG_LIMIT_S = 30 * 60

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "site-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.site


def _docs_extra():
    """The distributions the `docs` extra of pyproject.toml asks for (their names, without versions or extras)."""
    import tomllib
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["docs"]
    return [re.match(r"[A-Za-z0-9_.-]+", requirement).group(0) for requirement in extra]


def _missing():
    """Why the test cannot run here (a package of the docs extra or the browser is missing), or None."""
    from importlib.metadata import PackageNotFoundError, distribution
    missing = []
    for name in _docs_extra():
        try:
            distribution(name)
        except PackageNotFoundError:
            missing.append(name)
    if missing:
        return f"the docs extra is not installed (missing {', '.join(missing)}): pip install -e '.[docs]'"
    if not CHROMIUM or not CHROMEDRIVER:
        return "no Chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory, request, executed_lessons):
    markexpr = request.config.getoption("markexpr", "") or ""
    if "site" not in markexpr and os.environ.get("TINYGAN_SITE", "") in ("", "0"):
        pytest.skip("the website test is opt-in: python -m pytest -m site (or TINYGAN_SITE=1)")
    reason = _missing()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, MPLBACKEND="Agg")
    # The lessons the notebook test executed in this session are built from its notebooks; the build executes
    # the others (all of them when this test runs alone), unless TINYGAN_DOCS_CACHE names another cache.
    env.setdefault("TINYGAN_DOCS_CACHE", str(executed_lessons))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "docs", "build", "--site-dir", str(out / "site")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=HANG_LIMIT_S)
    assert proc.returncode == 0, f"the build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    warnings = [line for line in proc.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "the build warned:\n" + "\n".join(warnings)
    executed = re.findall(r"executing (\d+) lesson", proc.stderr)
    print(f"\nsite built in {time.perf_counter() - start:.0f} s, executing {executed[0] if executed else 0} lessons")
    return out / "site"


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(server):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(driver, url):
    """Load a page, wait for MathJax to finish typesetting, and return the console's messages."""
    driver.get(url)
    _typeset(driver)
    return driver.get_log("browser")


def _typeset(driver, wait_s=60):
    """Wait until MathJax 3 has typeset the page (at once where the page loads no MathJax)."""
    driver.set_script_timeout(wait_s)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const wait = () => !window.MathJax ? done(false)"
        "  : (MathJax.startup && MathJax.startup.promise) ? MathJax.startup.promise.then(() => done(true))"
        "  : setTimeout(wait, 50);"
        "wait();")


def _settle():
    """Let the theme's header finish its transition (it swaps the site's name for the page's title on scrolling)
    before a screenshot."""
    time.sleep(0.6)


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])


def _page_path(site, url_path):
    path = site / urllib.parse.unquote(url_path).lstrip("/")
    return path / "index.html" if path.is_dir() else path


def test_no_cdn_in_script_or_link_tags(site):
    found = []
    for page in site.rglob("*.html"):
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", page.read_text(encoding="utf-8")):
            if re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", tag):
                found.append(f"{page.relative_to(site)}: {tag}")
    assert not found, "script/link tags that load from the network:\n" + "\n".join(found[:20])


def test_every_page_loads_without_console_errors_or_broken_links(site, server, browser):
    """Crawl every internal link from the home page; load each page in Chromium."""
    seen, queue, pages, problems = set(), ["/"], {}, []
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        file = _page_path(site, path)
        if not file.is_file():
            continue
        if file.suffix != ".html":
            continue
        parser = _Links()
        parser.feed(file.read_text(encoding="utf-8"))
        pages[path] = parser
        for href in parser.links:
            target = urllib.parse.urljoin(server + path.lstrip("/"), href)
            if target.startswith(server):
                queue.append(urllib.parse.urlsplit(target).path)
    assert len(pages) > 50, f"the crawl found only {len(pages)} pages"
    for path, parser in pages.items():
        base = server + path.lstrip("/")
        for href in parser.links + parser.images:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(base, href))
            if not urllib.parse.urlunsplit(target).startswith(server) or href.startswith("data:"):
                continue
            if not _page_path(site, target.path).is_file():
                problems.append(f"{path}: broken link {href}")
            elif target.fragment and target.path in pages and target.fragment not in pages[target.path].ids:
                problems.append(f"{path}: link {href} names an anchor the page does not have")
    for path in sorted(pages):
        logs = _open(browser, server + path.lstrip("/"))
        errors = [entry["message"] for entry in logs if entry["level"] == "SEVERE"]
        if errors:
            problems.append(f"{path}: console errors {errors[:3]}")
        broken = browser.execute_script(
            "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))")
        if broken:
            problems.append(f"{path}: images that did not load {broken[:3]}")
    assert not problems, f"{len(problems)} problems in {len(pages)} pages:\n" + "\n".join(problems[:40])


def test_formulas_are_typeset(site, server, browser):
    source = (ROOT / "docs" / "formulas.md").read_text(encoding="utf-8")
    display = len(re.findall(r"^\$\$", source, re.M))
    for path, least in (("formulas/", display), ("lessons/12_autoencoder_to_vae/", 1), ("", 0)):
        _open(browser, server + path)
        rendered = browser.execute_script("return document.querySelectorAll('mjx-container[display=true]').length")
        assert rendered >= least, f"{path}: {rendered} typeset display formulas, expected {least} or more"
        errors = browser.execute_script("return document.querySelectorAll('mjx-merror').length")
        assert errors == 0, f"{path}: {errors} formulas MathJax could not typeset"
        text = browser.execute_script("return document.querySelector('.md-content').innerText")
        assert "$$" not in text, f"{path}: raw $$ left in the visible text"
        if path == "formulas/":
            SCREENSHOTS.mkdir(exist_ok=True)
            browser.execute_script("document.getElementById('gan-losses').scrollIntoView()")
            _settle()
            browser.save_screenshot(str(SCREENSHOTS / "formula-map.png"))


def test_each_lesson_page_shows_its_figures_and_checks(site, server, browser):
    lessons = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    assert lessons
    for lesson in lessons:
        _open(browser, server + f"lessons/{lesson.stem}/")
        figures = browser.execute_script(
            "return [...document.querySelectorAll('.jupyter-wrapper img')]"
            ".filter(i => i.src.startsWith('data:image/png') && i.naturalWidth > 100).length")
        draws = "savefig(" in lesson.read_text(encoding="utf-8")  # lesson 15 prints timings and draws none
        assert figures >= (1 if draws else 0), f"{lesson.stem}: no figure on its page"
        text = browser.execute_script("return document.querySelector('.md-content').innerText")
        assert "PASS" in text or "FAIL" in text, f"{lesson.stem}: no PASS/FAIL line on its page"
        if lesson.stem.startswith("07_"):
            SCREENSHOTS.mkdir(exist_ok=True)
            browser.execute_script("document.querySelector('.jupyter-wrapper img').scrollIntoView()")
            _settle()
            browser.save_screenshot(str(SCREENSHOTS / "lesson-07.png"))


@pytest.mark.parametrize("formula, file", [("conv-output-size", "tinygan/functional/conv.py"),
                                           ("adam-bias-correction", "tinygan/optim/adam.py"),
                                           ("gaussian-kl", None)])
def test_a_formula_code_link_lands_on_its_highlighted_line(site, server, browser, formula, file):
    from selenium.webdriver.common.by import By

    _open(browser, server + "formulas/")
    link = browser.execute_script(
        "let h = document.getElementById(arguments[0]), e = h.nextElementSibling;"
        "while (e && !/^H[1-3]$/.test(e.tagName)) {"
        "  for (const li of e.querySelectorAll('li')) if (li.textContent.trim().startsWith('file:'))"
        "    return li.querySelector('a');"
        "  e = e.nextElementSibling; }"
        "return null;", formula)
    assert link is not None, f"the map's entry {formula} has no file link"
    link.click()
    url = urllib.parse.urlsplit(browser.current_url)
    if file:
        assert url.path.endswith(f"/source/{file}/"), url.path
    number = re.fullmatch(r"__codelineno-0-(\d+)", url.fragment)
    assert number, f"the link has no line anchor: {browser.current_url}"
    line = browser.find_element(By.ID, f"__span-0-{number.group(1)}")
    assert f"[formula: {formula}]" in line.text, line.text
    assert line.find_elements(By.CSS_SELECTOR, ".hll"), f"line {number.group(1)} is not highlighted"
    background = browser.execute_script(
        "return getComputedStyle(arguments[0].querySelector('.hll')).backgroundColor", line)
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background


# (term, pages any of which must be among the results): a term from each part of the course. The README's
# PyTorch sections are also on the home page, which may rank first.
SEARCHES = [("transmittance", ["18_neural_rendering"]), ("straight-through", ["20_words_to_pictures"]),
            ("im2col", ["04_convolution"]), ("PacGAN", ["07_gan_on_a_ring"]),
            ("reparameterisation", ["12_autoencoder_to_vae"]), ("teacher forcing", ["16_recurrent_networks"]),
            ("PatchGAN", ["17_image_to_image"]), ("version counters", ["coming-from-pytorch", "/?h="]),
            ("from_checkpoint", ["moving-to-pytorch", "/?h="]), ("floors", ["architecture"]),
            ("Fréchet", ["14_judging_generative_models", "formulas"]), ("common mistakes", ["formulas"]),
            ("FID", ["quality"]), ("ConvTranspose2d", ["reference/nn"])]


def test_search_finds_a_term_from_each_part(site, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, server)
    SCREENSHOTS.mkdir(exist_ok=True)
    _settle()
    browser.save_screenshot(str(SCREENSHOTS / "home.png"))
    missing = []
    for term, expected in SEARCHES:
        _open(browser, server)
        box = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "input.md-search__input"))
        box.click()
        box.send_keys(term)
        try:
            WebDriverWait(browser, 20).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))
        except Exception:
            missing.append(f"{term}: no result")
            continue
        hrefs = browser.execute_script(
            "return [...document.querySelectorAll('.md-search-result__item a')].map(a => a.href)")
        if not any(page in href for page in expected for href in hrefs):
            missing.append(f"{term}: no result on {expected} (got {hrefs[:5]})")
        box.send_keys(Keys.ESCAPE)
    assert not missing, "\n".join(missing)
