import sys

from qlrf_client.cli import main

sys.exit(main())
