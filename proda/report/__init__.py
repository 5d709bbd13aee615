"""What users read about a build: ``stats`` (counts), ``trace`` (``proda show``), ``diff`` (two
versions), ``html`` (``proda report``)."""
