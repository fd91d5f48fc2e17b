"""Flee/FabFlee scenarios run on refuge's engine: Flee's folder format, Flee's rules, Flee's output (docs/flee.md).

:func:`~refuge.systems.flee.reader.read_scenario` reads a scenario folder,
:func:`~refuge.systems.flee.simulate.simulate` runs Flee's daily rules on a backend, and
:func:`~refuge.systems.flee.output.write_run` writes Flee's ``out.csv``, the errors and the plots.
"""
