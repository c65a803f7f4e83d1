"""``python -m hipflex``."""

import sys

from hipflex.cli import main

sys.exit(main())
