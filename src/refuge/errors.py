"""refuge's exceptions: library code raises these; only the CLI turns them into messages."""


class RefugeError(Exception):
    """Base of every error refuge raises on purpose."""


class ScenarioError(RefugeError):
    """A scenario file or lever is invalid: names the file, the field, the value and what is allowed."""


class ModelError(RefugeError):
    """A model definition is inconsistent (unknown stock, duplicate name, bad parameter)."""


class DataError(RefugeError):
    """A shipped or user-supplied data file is malformed."""


class RunError(RefugeError):
    """A run was asked for with settings that cannot work (members, backend, output folder)."""
