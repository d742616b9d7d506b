"""``python -m turbosim_hep`` runs the ``turbosim`` command."""

import sys

from turbosim_hep.cli import main

sys.exit(main())
