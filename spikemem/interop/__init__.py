"""Exchange formats the core and the hardware targets share: NIR (``interop.nir``)
and PyNN scripts (``interop.pynn``). Nothing is imported here: each format
loads what it needs (NIR's readers and writers need the ``torch`` extra)."""
