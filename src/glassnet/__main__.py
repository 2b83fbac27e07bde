"""`python -m glassnet`: the glassnet command."""

import sys

from glassnet.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
