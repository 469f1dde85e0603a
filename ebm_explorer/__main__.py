"""``python -m ebm_explorer`` is the same as the ``ebm-explorer`` command."""

from ebm_explorer.cli.main import main

raise SystemExit(main())
