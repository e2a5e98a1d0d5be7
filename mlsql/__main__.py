import sys

from mlsql.cli import main

sys.exit(main())
