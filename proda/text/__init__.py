"""Text conventions shared by training and scoring (``format``: prompt/response layout) and by
bench, synth and the debugger (``relations``: how each relation is said in English)."""
