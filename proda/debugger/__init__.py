"""The debugger: probes, diagnosis and targeted patch samples (``logic``), and ``proda debug``
itself (``run``), which reads a finished build and writes ``specs/patches/NNNN-debug.jsonl``."""
