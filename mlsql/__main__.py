import sys

from mlsql.cli.main import main

sys.exit(main())
