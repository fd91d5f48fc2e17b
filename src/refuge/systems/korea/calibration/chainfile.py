"""A chain's HDF5 file that waits out a reader instead of failing the step.

HDF5 locks a file while any process has it open, so a look at a running
calibration's ``chain-K.h5`` (h5py, emcee's reader, ``refuge calibrate`` on a
copy) made the sampler's next write fail with ``BlockingIOError`` and ended the
calibration. The writer now retries for up to about half a minute.
"""

from __future__ import annotations

import time

import emcee

#: seconds between tries to open a file another process holds (about 30 s in all)
WAITS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class ChainFile(emcee.backends.HDFBackend):
    def open(self, mode: str = "r"):
        for wait in WAITS:
            try:
                return super().open(mode)
            except BlockingIOError:
                time.sleep(wait)
        return super().open(mode)
