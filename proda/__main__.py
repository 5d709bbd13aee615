from proda.cli import main

main()
