from l4tui.cli import main

raise SystemExit(main())
