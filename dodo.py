"""doit entry point for the example project in specs/: `doit list`, `doit`, `doit info TASK`
run exactly the tasks of `proda build` (proda/make.py is the only module that knows doit)."""
from proda.tasks import load_dodo

globals().update(load_dodo(__file__))
