"""Where the tests find the repository, and the official MNIST test set beside it where this checkout has one."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OFFICIAL_MNIST = REPO.parent / "shared" / "data" / "mnist"
