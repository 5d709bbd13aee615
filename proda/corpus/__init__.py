"""The corpus side of the pipeline: reading files (``readers``), quality and near-duplicate
filtering (``quality``), and chunking (``chunking``)."""
