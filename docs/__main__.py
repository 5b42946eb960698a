"""Build the course website: `python -m docs build` (into site/), or `python -m docs serve`.

    python -m docs build                 # lessons executed in quick mode (TINYGAN_QUICK=1), seconds each
    python -m docs build --full          # lessons executed in full mode (the lessons' own settings: long)
    python -m docs build --site-dir DIR  # somewhere else than site/

Needs the docs extra: pip install -e '.[docs]'. mkdocs.yml configures the site, docs/hooks.py
includes the repository's files as pages and executes the lessons. `run-lesson SRC OUT` is the step
the build runs for each lesson (as its own process).
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m docs", description="Build the course website.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "serve"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--full", action="store_true", help="execute the lessons in full mode (long)")
        cmd.add_argument("--site-dir", help="where to write the site (default: site/)")
    run = sub.add_parser("run-lesson", help=argparse.SUPPRESS)
    run.add_argument("source")
    run.add_argument("target")
    args = parser.parse_args(argv)
    if args.command == "run-lesson":
        from docs.hooks import run_lesson
        run_lesson(args.source, args.target)
        return 0
    if args.full:
        os.environ["TINYGAN_DOCS_FULL"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    import logging
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    logging.getLogger("mkdocs.hooks.tinygan").setLevel(logging.INFO)
    from mkdocs.config import load_config
    options = {"site_dir": str(Path(args.site_dir).resolve())} if args.site_dir else {}
    config = load_config(str(ROOT / "mkdocs.yml"), **options)
    if args.command == "serve":
        from mkdocs.commands.serve import serve
        serve(str(ROOT / "mkdocs.yml"), **options)
        return 0
    from mkdocs.commands.build import build
    start = time.perf_counter()
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    print(f"site built in {time.perf_counter() - start:.0f} s: {config['site_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
