from loadsim.cli import main

raise SystemExit(main())
