"""`python -m qfinder` runs the same entry point as the `qfinder` command."""

import sys

from qfinder.app import main

sys.exit(main())
