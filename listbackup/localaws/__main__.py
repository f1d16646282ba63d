import sys

from listbackup.localaws.app import main

sys.exit(main())
