"""python -m benchmarks.quality: see benchmarks/quality/run.py and benchmarks/README.md."""
from .run import main

raise SystemExit(main())
