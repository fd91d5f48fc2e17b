"""The run store: output folders that are never half-written, never mixed, never someone else's.

- :mod:`.files`: every file written to a temporary name, flushed and renamed, with
  Ctrl-C held until it is done, so an interruption at any point, ``kill -9``
  included, leaves nothing that a rerun would trust wrongly;
- :mod:`.paths`: an output path refused early when no folder could be written there;
- :mod:`.runs`: a run's folder, resumed from verified blocks and published whole
  with its manifest (``run.json``) by one atomic rename;
- :mod:`.working`: a folder a verb fills step by step (a calibration, a backtest),
  marked, resumed and sealed;
- :mod:`.derived`: pages made later from either (``report.html``).

refuge deletes only files that a manifest or a mark says it wrote, and never
overwrites one a person changed since.
"""

from .derived import add_derived, check_derived
from .files import held_interrupts, write_file, write_text
from .paths import check_output_path, nearest_existing
from .runs import Manifest, RunFolder, publish_folder
from .working import check_sealed, claim_folder, remove_claimed, seal_folder

__all__ = [
    "Manifest", "RunFolder", "add_derived", "check_derived", "check_output_path", "check_sealed", "claim_folder",
    "held_interrupts", "nearest_existing", "publish_folder", "remove_claimed", "seal_folder", "write_file",
    "write_text",
]
