"""``python -m rung.cli``: the same as the ``rung`` command."""

from . import main

raise SystemExit(main())
