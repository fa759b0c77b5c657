"""PyInstaller entry script: the installed ``htr-desktop`` console command, frozen."""

import multiprocessing
import sys

from htr_desktop.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the worker pool's processes start as this executable (model/pool.py)
    sys.exit(main())
