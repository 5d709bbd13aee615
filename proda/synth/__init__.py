"""The Builder's logic: training samples from L1/L2 knowledge (``samples``), the one orthogonality
check between training data and the benchmark (``orthogonality``), and patch files (``patchfile``)."""
