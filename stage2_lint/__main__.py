import sys

from stage2_lint.cli import console_main

sys.exit(console_main())
