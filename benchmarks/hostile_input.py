"""How long refuge takes to accept the largest scenario file it allows and to refuse the worst ones.

    .venv/bin/python benchmarks/hostile_input.py

Each case is read with ``refuge.load_scenario`` (what ``refuge validate`` and ``refuge run`` do) five
times; the table gives the best and worst time and the outcome.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from refuge.errors import ScenarioError
from refuge.safe_yaml import MAX_BYTES
from refuge.scenarios import load_scenario


def cases(folder: Path) -> dict[str, Path]:
    levers = "".join(f"  - {{lever: aid, from: {2027 + i % 9}, until: {2028 + i % 9}, set: 0.5}}\n" for i in range(200))
    valid = f"name: big\nbase: baseline\ndescription: {'x' * 3_900}\nlevers:\n{levers}"
    padding = "# " + "c" * 96 + "\n"
    largest = valid + padding * ((MAX_BYTES - len(valid)) // len(padding))
    bomb = ['name: bomb', 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    bomb += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 12)] + ["description: *a11"]
    texts = {
        f"largest accepted ({len(largest.encode()):,} bytes, 200 levers)": largest,
        "alias bomb (9^12 nodes expanded)": "\n".join(bomb) + "\n",
        "nesting 100,000 deep": "name: deep\nlevers: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "one byte over the size limit": "name: x\n" + "#" * (MAX_BYTES - 8) + "\n",
        "4,001 values": "name: many\nparameters: {" + ", ".join(f"p{i}: 1" for i in range(2_001)) + "}\n",
    }
    paths = {}
    for i, (label, text) in enumerate(texts.items()):
        paths[label] = folder / f"case-{i}.yaml"
        paths[label].write_text(text)
    paths["binary garbage (64 KiB)"] = folder / "garbage.yaml"
    paths["binary garbage (64 KiB)"].write_bytes(bytes(range(256)) * (MAX_BYTES // 256))
    return paths


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'case':<48} {'outcome':<9} {'best':>9} {'worst':>9}")
        for label, path in cases(Path(folder)).items():
            times, outcome = [], ""
            for _ in range(5):
                start = time.perf_counter()
                try:
                    load_scenario(path)
                    outcome = "accepted"
                except ScenarioError:
                    outcome = "refused"
                times.append(time.perf_counter() - start)
            print(f"{label:<48} {outcome:<9} {min(times) * 1e3:>7.1f}ms {max(times) * 1e3:>7.1f}ms")


if __name__ == "__main__":
    main()
