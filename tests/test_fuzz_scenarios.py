"""Hostile scenario files: every one is accepted or refused with one message, quickly, and what is accepted runs.

The cases are generated from one seed: mutations of the built-in scenarios,
type and unicode swaps, huge and non-finite numbers, alias bombs, deep nesting,
duplicate keys, ``base:`` cycles and paths to system files, binary garbage.
"""

import math
import random
import time

import numpy as np
import pytest

import refuge
from refuge import cli
from refuge.errors import ScenarioError
from refuge.model.timeline import Timeline
from refuge.scenarios import builtin_names, load_scenario
from refuge.scenarios.levers import compile_inputs
from refuge.systems import get_system
from refuge.systems.korea.calibration.posterior import shipped_posterior
from refuge.systems.korea.system import TIMELINE

CASES = 1_200
#: the longest any one file may take to accept or refuse (a hang is the defect; typical cases take milliseconds)
WORST_SECONDS = 5.0

_VALUES = [
    "0", "1", "-1", "0.5", "1e308", "-1e308", "1e400", ".inf", "-.inf", ".nan", "1e-320", "99999999999999999999999",
    "true", "null", "~", "[]", "{}", "[1, 2]", "{a: 1}", "'text'", '"\\u202e\\u200b"', "'中国'", "'🙂'", "2027-13",
    "0000-01", "9999-12-31", "2027-02-30", "1950", "2050", "2027-06", "abc", "'2027'", "0x1F", "1_000",
    "!!binary aGVsbG8=", "!!python/object:os.system {}", "*x", "&y 3", "'" + "a" * 5000 + "'",
]
_KEYS = ["name", "description", "base", "levers", "parameters", "lever", "from", "until", "set", "scale",
         "add", "aid", "attempt_base", "catch_at_border", "hiding_capacity", "border_closure", "nam e", "Name",
         "<<"]  # fmt: skip


def _builtin_texts():
    folder = get_system().scenario_folder()
    return [(folder / f"{name}.yaml").read_text(encoding="utf-8") for name in builtin_names()]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        i = rng.randrange(len(lines)) if lines else 0
        if kind == 0 and lines:  # a value swapped for anything
            head, sep, _tail = lines[i].partition(": ")
            lines[i] = f"{head}{sep or ': '}{rng.choice(_VALUES)}"
        elif kind == 1 and lines:  # a line doubled: a duplicate key, or a second lever
            lines.insert(i, lines[i])
        elif kind == 2 and lines:
            del lines[i]
        elif kind == 3:  # a new field anywhere, at any indentation
            lines.insert(i, " " * rng.choice([0, 2, 4, 6]) + f"{rng.choice(_KEYS)}: {rng.choice(_VALUES)}")
        elif kind == 4 and lines:  # characters cut or swapped
            line = lines[i]
            j = rng.randrange(len(line) + 1)
            lines[i] = line[:j] + rng.choice(["", "'", '"', "[", "{", "\t", ":", "-", "#", "\x00", "\u00a0"]) + line[j:]
        elif kind == 5:
            lines.insert(i, f"  - {{lever: {rng.choice(_KEYS)}, from: {rng.choice(_VALUES)}, "
                            f"{rng.choice(['set', 'scale', 'add'])}: {rng.choice(_VALUES)}}}")  # fmt: skip
        else:
            lines.insert(i, f"parameters: {{{rng.choice(_KEYS)}: {rng.choice(_VALUES)}}}")
    return "\n".join(lines) + "\n"


def _levers(rng: random.Random) -> str:
    """A well-formed scenario of random levers on real drivers and parameters, with values in and out of range."""
    model = refuge.north_korea()
    names = [d.name for d in model.drivers] + [p.name for p in model.parameters]
    lines = ["name: levers", "base: baseline", "levers:"]
    for _ in range(rng.randint(1, 3)):
        start = rng.randint(1986, 2040)
        until = f", until: {start + rng.randint(-1, 12)}" if rng.random() < 0.5 else ""
        action = rng.choice(["set", "scale", "add"])
        value = rng.choice([0, 0.1, 0.5, 1, 1.5, 2, 10, -0.3, 1e3, 1e12, 3e5])
        lines.append(f"  - {{lever: {rng.choice(names)}, from: {start}{until}, {action}: {value}}}")
    return "\n".join(lines) + "\n"


def _bomb(rng: random.Random) -> str:
    levels = rng.randint(3, 12)
    lines = ["name: bomb", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
    field = rng.choice(["description", "levers", "parameters", "base"])
    lines.append(f"{field}: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def _deep(rng: random.Random) -> str:
    depth = rng.choice([20, 100, 1_000, 10_000, 100_000])
    if rng.random() < 0.5:
        return "name: deep\nlevers: " + "[" * depth + "]" * depth + "\n"
    return "name: deep\nparameters: " + "{a: " * depth + "1" + "}" * depth + "\n"


def _cases(folder):
    """(label, path) of every generated file; some files refer to others (cycles, chains)."""
    rng = random.Random(20261125)
    texts = _builtin_texts()
    (folder / "loop-a.yaml").write_text("name: loop-a\nbase: loop-b.yaml\n")
    (folder / "loop-b.yaml").write_text("name: loop-b\nbase: loop-a.yaml\n")
    for k in range(12):
        base = f"chain-{k + 1}.yaml" if k < 11 else "baseline"
        (folder / f"chain-{k}.yaml").write_text(f"name: chain-{k}\nbase: {base}\n")
    (folder / "self.yaml").write_text("name: self\nbase: self.yaml\n")
    system = ["/etc/passwd", "/etc/shadow", "/dev/zero", "/dev/urandom", "/proc/self/environ", "/proc/self/mem", "/",
              "../../../../etc/passwd", "/etc/hostname.yaml", "/dev/stdin", "~/.ssh/id_rsa", "x" * 5000,
              "baseline\x00", "loop-a.yaml", "chain-0.yaml", "self.yaml",
              "C:\\\\Windows\\\\win.ini", "https://example.org/s.yaml"]  # fmt: skip
    for i in range(CASES):
        kind = i % 10
        path = folder / f"case-{i:04d}.yaml"
        if kind <= 4:
            path.write_text(_mutate(rng.choice(texts), rng), encoding="utf-8", errors="surrogateescape")
        elif kind == 5:
            path.write_text(_bomb(rng))
        elif kind == 6:
            path.write_text(_deep(rng))
        elif kind == 7:
            path.write_text(f"name: sys\nbase: {rng.choice(system)!r}\n" if rng.random() < 0.7 else
                            f"name: sys\nbase: {rng.choice(system)}\n")  # fmt: skip
        elif kind == 8:
            size = rng.choice([1, 64, 4_096, 300_000])
            path.write_bytes(rng.randbytes(size) if rng.random() < 0.8 else b"\xef\xbb\xbf" + b"name: x\n" * size)
        else:
            path.write_text(_levers(rng))
        yield f"case {i} ({_KINDS[kind]})", path


_KINDS = ["mutation"] * 5 + ["alias bomb", "deep nesting", "system path", "garbage", "random levers"]


def _runs(scenario, model, posterior) -> None:
    """What a run needs of a scenario holds: every driver and parameter finite and in its bounds at every step."""
    timeline = TIMELINE
    draws = {}
    if posterior is not None:
        draws = {name: np.array([[posterior.samples[name].min()], [posterior.samples[name].max()]])
                 for name in posterior.model_parameters}  # fmt: skip
    inputs = compile_inputs(model, scenario, timeline, draws)
    for name, series in inputs.drivers.items():
        low, high = model.driver(name).bounds
        assert np.isfinite(series).all() and (series >= low).all() and (series <= high).all(), name
    bounds = {p.name: p.bounds for p in model.parameters}
    for step in sorted({0, timeline.steps - 1, *(timeline.first_step_from(lever.start) for lever in scenario.levers)}):
        for name, value in inputs.parameters_at(min(step, timeline.steps - 1)).items():
            values = np.asarray(value, dtype=float)
            low, high = bounds[name]
            assert np.isfinite(values).all() and (values >= low).all() and (values <= high).all(), (name, values)


def test_every_generated_file_is_accepted_or_refused_quickly_and_accepted_ones_run(tmp_path, model):
    posterior = shipped_posterior()
    accepted, refused, worst = [], 0, 0.0
    for label, path in _cases(tmp_path):
        start = time.perf_counter()
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            assert str(err).strip(), label
            assert "root:" not in str(err), (label, str(err))  # no system file is echoed
            refused += 1
        else:
            _runs(scenario, model, posterior)
            accepted.append(scenario)
        worst = max(worst, time.perf_counter() - start)
        assert time.perf_counter() - start < WORST_SECONDS, label
    assert refused + len(accepted) >= CASES
    assert len(accepted) >= 60 and refused >= 500  # the generator makes both kinds
    for scenario in accepted[:: max(1, len(accepted) // 5)]:  # and some accepted files really run
        results = refuge.run(scenario, members=2, seed=1, backend="mean", timeline=Timeline(2025, 2030))
        assert math.isfinite(float(results.outputs().sum()))


def test_the_command_line_answers_every_generated_file_with_exit_0_or_2_and_no_traceback(tmp_path, capsys,
                                                                                          monkeypatch):  # fmt: skip
    for label, path in list(_cases(tmp_path))[::6]:
        monkeypatch.setattr("sys.argv", ["refuge", "validate", str(path)])
        with pytest.raises(SystemExit) as done:
            cli.main()
        out = capsys.readouterr()
        assert done.value.code in (0, 2), (label, done.value.code, out.err)
        assert "Traceback" not in out.out + out.err, label
    assert not [p for p in tmp_path.iterdir() if not p.name.endswith(".yaml")]  # validate writes nothing
