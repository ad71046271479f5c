"""The validation curve of a training run: every row of history.json that carries validation scores.

    python tools/val_curve.py [runs/demo]     # writes runs/demo/val_curve.json and prints a table

Rows: step, phase (0 init, 1 adversarial), val_recon_db (output vs photo), val_target_db
(output vs the cartoonize target) and val_input_db (unchanged photo vs target), all at the
config's val_size on the eight validation photos.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> int:
    run = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "runs" / "demo"
    rows = json.loads((run / "history.json").read_text())
    keys = ("step", "phase", "val_recon_db", "val_target_db", "val_input_db")
    curve = [{k: r[k] for k in keys if k in r} for r in rows if "val_recon_db" in r]
    for r in curve:
        r["step"] += 1  # history rows are numbered before the step; validation runs after it
    (run / "val_curve.json").write_text(json.dumps(curve, indent=1) + "\n")
    print(f"{'step':>6} {'recon dB':>9} {'target dB':>10} {'input dB':>9}")
    for r in curve:
        target, unchanged = r.get("val_target_db", float("nan")), r.get("val_input_db", float("nan"))
        print(f"{r['step']:>6} {r['val_recon_db']:>9.2f} {target:>10.2f} {unchanged:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
