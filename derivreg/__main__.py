"""``python -m derivreg`` runs the command line."""

from derivreg.cli import main

raise SystemExit(main())
