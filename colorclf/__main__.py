"""``python -m colorclf``: the command line (see colorclf.cli)."""

from colorclf.cli import main

raise SystemExit(main())
