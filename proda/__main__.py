from proda.cli import main

if __name__ == "__main__":  # guarded: worker processes (forkserver, spawn) import this module too
    main()
