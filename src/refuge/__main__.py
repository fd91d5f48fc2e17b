"""``python -m refuge`` and the ``refuge`` command."""

import sys


def main() -> None:
    """Run the command line. Ctrl-C while it loads (a tenth of a second, longer on a busy machine) ends as it
    does later: ``interrupted``, exit code 130, no traceback."""
    try:
        from .cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    command_line()


if __name__ == "__main__":
    main()
