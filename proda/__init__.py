"""proda — test-driven data engineering for LLMs, as a build system.

The corpus under ``specs/`` is the specification; knowledge nodes and training samples are the
source; fine-tuning is the compiler; checkpoints are binaries; benchmark items are unit tests.
"""

__version__ = "0.1.0"
