"""Import the authors' released PAVE-Net checkpoints (needs torch for the importer).

keymap       official key <-> our key tables (torch-free)
inventory    which official component every tensor belongs to, and how many weights
             (torch-free)
preprocess   the authors' input/output conventions (torch-free)
importer     load (safe), map, check, convert: ``import_official(path, preset)``
"""
