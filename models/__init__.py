"""The model zoo: each model defined once, run on any backend by name."""
from .cuba import cuba

MODELS = {"cuba": cuba}
