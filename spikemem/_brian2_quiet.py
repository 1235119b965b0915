"""Keeping Brian2's process-wide set-up out of the user's script.

Importing brian2 installs its own ``sys.excepthook`` (every uncaught error of
the script then reads "Brian 2 encountered an unexpected error ... report this
issue" and keeps debug files in the temporary directory) and starts a debug
log file and a copy of the main script there. spikemem imports brian2 lazily,
from whichever module is used first, so ``install()`` (run by ``import
spikemem``) sets a one-shot import hook that undoes this right after brian2's
import: the previous excepthook is put back, the log file and the script copy
are closed and deleted, and the preferences that create them are switched off.
A brian2 that the user imported before spikemem is left as it is.

It also drops Brian2's "The object ... is getting deleted, but was never
included in a network" warning for the objects spikemem creates itself: the
numba and torch backends only ask them for code and never run them, and after
an error or Ctrl-C every half-built object would warn. Brian2's own objects
created by the user's code still warn.
"""
import logging
import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class _SpikememObjectsUnused(logging.Filter):
    """Rejects Brian2's unused-object warning for objects created in spikemem."""

    def filter(self, record):
        return f"File '{_PACKAGE}{os.sep}" not in record.getMessage()


def quiet(previous_excepthook):
    """Undo brian2's import-time set-up (brian2 is imported)."""
    from brian2 import prefs
    from brian2.utils import logger

    if sys.excepthook is logger.brian_excepthook:
        sys.excepthook = previous_excepthook
    prefs["logging.file_log"] = False
    prefs["logging.save_script"] = False
    log = logger.BrianLogger
    if log.file_handler is not None:
        logging.getLogger("brian2").removeHandler(log.file_handler)
        log.file_handler.close()
        log.file_handler = None
    for attr in ("tmp_log", "tmp_script"):
        path = getattr(log, attr)
        setattr(log, attr, None)
        if path is not None:
            try:
                os.remove(path)
            except OSError:
                pass


class _Brian2ImportHook:
    """A meta path finder that runs ``quiet`` after brian2's first import."""

    def find_spec(self, name, path=None, target=None):
        if name != "brian2":
            return None
        uninstall()
        import importlib.util
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_quiet(module):
            previous = sys.excepthook
            exec_module(module)
            quiet(previous)

        loader.exec_module = exec_and_quiet
        return spec


_HOOK = _Brian2ImportHook()


def uninstall():
    if _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)


def install():
    unused = logging.getLogger("brian2.core.base.unused_brian_object")
    if not any(isinstance(f, _SpikememObjectsUnused) for f in unused.filters):
        unused.addFilter(_SpikememObjectsUnused())
    if "brian2" not in sys.modules and _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
