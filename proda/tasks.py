"""What every project's ``dodo.py`` imports: ``from proda.tasks import load_dodo``.

The tasks themselves are made in ``proda.make`` (the only module that knows doit); this name is
kept stable for user projects.
"""

from .make import load_dodo, run_doit, stage_tasks

__all__ = ["load_dodo", "run_doit", "stage_tasks"]
