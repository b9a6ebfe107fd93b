import sys

from stage2_lint.cli import main

sys.exit(main())
