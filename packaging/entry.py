"""PyInstaller entry script: the installed ``htr-desktop`` console command, frozen."""

import sys

from htr_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
