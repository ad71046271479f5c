"""``python -m animegan_edu.cli``: the ``animegan-edu`` command."""

import sys

from animegan_edu.cli.main import main

sys.exit(main())
