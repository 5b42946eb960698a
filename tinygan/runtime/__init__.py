"""What the process needs apart from the maths: how many threads the BLAS runs (threads.py), whether
malloc keeps freed memory for the next training step (malloc.py), and files written into place and
.npz archives read within a byte budget (files.py). Nothing here imports the rest of tinygan."""
from . import files, malloc, threads
