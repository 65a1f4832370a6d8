"""Single-op and small test models: see tinykiln.modelbuilder.ModelBuilder."""
from tinykiln.modelbuilder import ModelBuilder  # noqa: F401
