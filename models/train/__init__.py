"""models.train: see models/train/ and models/README.md."""
