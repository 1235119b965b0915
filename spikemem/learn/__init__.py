"""Training through the torch backend."""
