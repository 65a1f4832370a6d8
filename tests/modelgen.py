"""Single-op and small test models: see tinykiln.frontend.modelbuilder.ModelBuilder."""
from tinykiln.frontend.modelbuilder import ModelBuilder  # noqa: F401
