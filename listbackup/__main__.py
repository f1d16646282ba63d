from listbackup.cli import main

raise SystemExit(main())
