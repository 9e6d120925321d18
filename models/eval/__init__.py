"""models.eval: see models/eval/ and models/README.md."""
