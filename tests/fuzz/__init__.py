"""Fuzzing of the readers: targets, corpus, crashes (docs/fuzzing.md)."""
