"""Exchange formats the core and the hardware targets share: NIR (``interop.nir``),
PyNN scripts (``interop.pynn``), and results as Neo blocks and NWB files
(``interop.neo``, ``interop.nwb``). Nothing is imported here: each format loads
what it needs (NIR's readers and writers need the ``torch`` extra, NWB the
``experiments`` extra)."""
