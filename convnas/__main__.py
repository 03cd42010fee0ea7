"""`python -m convnas`: the command line."""

import sys

from convnas.cli import main

sys.exit(main())
