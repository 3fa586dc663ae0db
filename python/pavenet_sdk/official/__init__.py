"""Import the authors' released PAVE-Net checkpoints (needs torch for the importer).

keymap       official key <-> our key tables (torch-free)
preprocess   the authors' input/output conventions (torch-free)
importer     load (safe), map, check, convert: ``import_official(path, preset)``
"""
