"""Versioned prompt templates (package data), rendered by :mod:`proda.llm.prompts`.

A prompt is never edited in place once used: write ``NAME.v2.txt`` and point the stage at it, so the
template hash in every cache key and recipe says which wording produced which output.
"""
