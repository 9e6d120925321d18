"""models.tools: see models/tools/ and models/README.md."""
