"""``python -m bench`` (``make bench``): see bench/README.md."""

import sys

from .runner import main

sys.exit(main())
