"""``python -m srlib`` = the ``srlib`` command."""

import sys

from srlib.cli import main

sys.exit(main())
