"""Recordings of an OME's behaviour, and holding the emulator (or another recording) to them.

The data flow: procedures (what to ask, in which order, by when) run against a target and make
observations; a recording folder keeps them in the shapes of ../shared/samples/ with a manifest;
fidelity runs the same procedures against the emulator, or takes a second recording, and compares
observation by observation into a report (Markdown + JSON).
"""
