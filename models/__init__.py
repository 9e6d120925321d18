"""Developer-side Python tools of gimp-pix2pix (training, data, evaluation, conversion).

Run them as modules from the repository root, e.g. `/usr/bin/python3 -m models.train.train`.
The plug-in, the CLI and the core never run Python.
"""
