"""models.dataset: see models/dataset/ and models/README.md."""
