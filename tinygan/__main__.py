"""`python -m tinygan ...` runs the tinygan command."""
import sys

from .cli import main

sys.exit(main())
