"""Measure what each notebook costs a student's laptop, for docs/teaching.md.

Each notebook is executed top to bottom, offline, on a copy in a temporary folder (the committed
notebook is never touched), with OMP_NUM_THREADS=2. For each we record the wall time, the CPU
seconds (user + system of the kernel and everything it started) and the peak resident memory of
the largest process, together with the CPU (animegan_edu.machine.cpu_info()) and the date.

    python tools/measure_notebooks.py                 # all notebooks -> docs/notebook_times.json
    python tools/measure_notebooks.py 00 06           # some of them (merged into the JSON)
    python tools/measure_notebooks.py --table         # print the Markdown table only
    python tools/measure_notebooks.py --label avx2    # another CPU class: docs/notebook_times_avx2.json,
                                                      # table between <!-- notebook-times-avx2 --> markers

The table between the markers <!-- notebook-times --> ... <!-- /notebook-times --> in
docs/teaching.md is rewritten from the JSON. Run it on an otherwise idle machine: the figures
are what a student's 2-core laptop needs, so nothing else should be running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "notebook_times.json"
DOC = ROOT / "docs" / "teaching.md"
START, END = "<!-- notebook-times -->", "<!-- /notebook-times -->"

_CHILD = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": r.returncode, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": ru.ru_maxrss / 1024, "stderr": r.stderr[-2000:]}))
"""


def measure(nb: Path, timeout: int = 900) -> dict:
    """Execute a copy of ``nb``; return wall/CPU seconds and peak RSS (MB)."""
    with tempfile.TemporaryDirectory(prefix="aeg-measure-") as tmp:
        # the notebooks find data through the installed package, so a copy runs anywhere
        dst = Path(tmp) / nb.name
        shutil.copy2(nb, dst)
        env = dict(os.environ, OMP_NUM_THREADS="2", MPLBACKEND="module://matplotlib_inline.backend_inline")
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            f"--ExecutePreprocessor.timeout={timeout}",
            "--output",
            str(Path(tmp) / "out.ipynb"),
            str(dst),
        ]
        res = subprocess.run(
            [sys.executable, "-c", _CHILD, *cmd], capture_output=True, text=True, env=env, cwd=tmp
        )
    row = json.loads(res.stdout.strip().splitlines()[-1])
    if row.pop("rc") != 0:
        raise SystemExit(f"{nb.name}: execution failed:\n{row['stderr']}")
    row.pop("stderr")
    return {k: round(v, 1) for k, v in row.items()}


def table(data: dict) -> str:
    rows = ["| notebook | wall time (s) | CPU time (s) | peak memory (MB) |", "|---|---:|---:|---:|"]
    for name, r in sorted(data["notebooks"].items()):
        rows.append(f"| `{name}` | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['peak_rss_mb']:.0f} |")
    total_wall = sum(r["wall_s"] for r in data["notebooks"].values())
    rows.append(f"| all | {total_wall:.0f} | {sum(r['cpu_s'] for r in data['notebooks'].values()):.0f} | |")
    cpu = data.get("cpu", {})
    rows.append("")
    cap = f", PyTorch CPU capability {cpu['capability']}" if cpu.get("capability") else ""
    rows.append(
        f"Measured {data.get('date', '?')} by `tools/measure_notebooks.py` on {cpu.get('model', '?')}{cap} "
        f"({cpu.get('threads', '?')} threads used, torch {cpu.get('torch', '?')}), each notebook run top to "
        "bottom on a copy, offline, nothing else running. Wall time includes starting the kernel (~2-4 s)."
    )
    return "\n".join(rows)


def update_doc(data: dict, start: str = START, end: str = END) -> None:
    START, END = start, end  # noqa: N806
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers {START} / {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table(data)}\n{END}{tail}", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="*", help="notebook numbers (default: all)")
    ap.add_argument("--table", action="store_true", help="print the table from the JSON and exit")
    ap.add_argument("--label", default="", help="another CPU class: its own JSON and table markers")
    args = ap.parse_args()
    out = OUT.with_name(f"notebook_times_{args.label}.json") if args.label else OUT
    marks = (
        (f"<!-- notebook-times-{args.label} -->", f"<!-- /notebook-times-{args.label} -->")
        if args.label
        else (START, END)
    )
    data = json.loads(out.read_text()) if out.exists() else {"notebooks": {}}
    if args.table:
        print(table(data))
        return 0
    sys.path.insert(0, str(ROOT))
    from animegan_edu.machine import cpu_info

    nbs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.which:
        nbs = [p for p in nbs if p.name[:2] in set(args.which)]
    for nb in nbs:
        print(f"{nb.name} ...", flush=True)
        data["notebooks"][nb.stem] = measure(nb)
        print(f"  {data['notebooks'][nb.stem]}", flush=True)
    info = cpu_info()
    import torch

    data["cpu"] = {
        "model": info.get("model"),
        "threads": 2,
        "torch": torch.__version__.split("+")[0],
        "capability": info.get("torch_cpu_capability"),
        "flags": {k: info.get(k) for k in ("avx2", "avx512", "vnni", "amx", "avx512_bf16")},
    }
    data["date"] = dt.date.today().isoformat()
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    update_doc(data, *marks)
    print(table(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
