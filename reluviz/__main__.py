"""``python -m reluviz`` is the same as the ``reluviz`` command."""

import sys

from reluviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
