"""Exchange formats the core and the hardware targets share: NIR (``interop.nir``)
and PyNN scripts (``interop.pynn``). Nothing is imported here: NIR needs the
``torch`` extra, and the CLI's ``--help`` imports this package."""
