"""``python -m calfwatch``."""

import sys

from calfwatch.cli import main

sys.exit(main())
