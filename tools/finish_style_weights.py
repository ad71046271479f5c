"""After the style fine-tunes: bundle their generators, score them, draw the model card's grid.

    python tools/finish_style_weights.py wesnoth=runs/style-wesnoth clipart=runs/style-clipart

For each ``name=RUN_DIR`` (RUN_DIR made by ``animegan-edu train --config configs/style_<name>.yaml``):

1. copies RUN_DIR/generator.safetensors (the EMA generator) to weights/<name>.safetensors and
   writes its SHA-256 sidecar (the registry reads the hash from there);
2. keeps every 5th row of the run's loss history (weights/<name>_history.json);

then, on the validation photos at 512 px, against every style set in data/styles
(``animegan-edu data prepare-styles``), scores the demo weights, the photos and each new
generator (:mod:`animegan_edu.training.style_eval`), writes weights/style_eval.json (with the
CPU, the date, each run's steps and wall time, and the issue's acceptance checks) and draws
weights/style_grid.jpg (photo | demo | each style, 512 px). Prints the confusion table.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import torch
from PIL import Image

from animegan_edu.data.styles import style_set_names
from animegan_edu.files import write_sidecar
from animegan_edu.machine import cpu_info
from animegan_edu.samples import VALIDATION_PHOTOS, sample_photo01
from animegan_edu.training.style_eval import confusion_table, load_style_sets, style_scores
from animegan_edu.weights.hub import get_generator

W = Path("weights")
SIZE = 512
SET_OF = {"wesnoth": "Wesnoth", "hedgewars": "Hedgewars", "clipart": "Clipart"}


def main() -> None:
    runs = dict(a.split("=", 1) for a in sys.argv[1:])
    info = {}
    for name, run in runs.items():
        run = Path(run)
        dest = W / f"{name}.safetensors"
        shutil.copyfile(run / "generator.safetensors", dest)
        write_sidecar(dest)
        rows = json.loads((run / "history.json").read_text())
        (W / f"{name}_history.json").write_text(json.dumps(rows[::5]) + "\n")
        info[name] = {"steps": len(rows), "train_seconds": round(sum(r.get("seconds", 0.0) for r in rows), 1)}
    sets = load_style_sets("data/styles", style_set_names())
    models = {"demo": get_generator("demo", fallback=None, progress=False)[0]}
    models.update({n: get_generator(n, fallback=None, progress=False)[0] for n in runs})
    scores = {"photos": style_scores(None, sets, SIZE)}
    with torch.no_grad():
        scores.update({n: style_scores(m, sets, SIZE) for n, m in models.items()})
    shipped = [SET_OF[n] for n in runs]
    checks = {}
    for n in runs:
        own, s = SET_OF[n], scores[n]
        checks[n] = {
            "distance_below_demo_by": 1 - s.distance[own] / scores["demo"].distance[own],
            "closest_of_shipped": all(s.distance[own] < s.distance[o] for o in shipped if o != own),
            "nearest_of_all_sets": s.nearest() == own,
            "edge_corr": s.edge_corr,
            "cast_ok": s.cast_ok(own),
        }
        checks[n]["met"] = (
            checks[n]["distance_below_demo_by"] >= 0.30
            and checks[n]["closest_of_shipped"]
            and s.edge_corr >= 0.5
            and checks[n]["cast_ok"]
        )
    out = {
        "cpu": cpu_info(),
        "date": dt.date.today().isoformat(),
        "size": SIZE,
        "photos": list(VALIDATION_PHOTOS),
        "sets": {s.name: {"pictures": s.count, "ab": s.ab} for s in sets},
        "runs": info,
        "scores": {k: {"distance": v.distance, "edge_corr": v.edge_corr, "output_ab": v.output_ab}
                   for k, v in scores.items()},  # fmt: skip
        "acceptance": checks,
    }
    (W / "style_eval.json").write_text(json.dumps(out, indent=1) + "\n")
    print(confusion_table(scores))
    print(json.dumps(checks, indent=1))
    grid(models, ["chelsea", "china", "astronaut"])


def grid(models: dict, names: list[str]) -> None:
    """weights/style_grid.jpg: one row per photo: the photo, then each model's output, at 512 px."""
    tiles = []
    for name in names:
        x = sample_photo01(name, SIZE)[None]
        row = [x[0]]
        with torch.no_grad():
            row += [((m(x * 2 - 1) + 1) / 2).clamp(0, 1)[0] for m in models.values()]
        tiles.append(torch.cat(row, dim=-1))
    width = max(t.shape[-1] for t in tiles)
    tiles = [torch.nn.functional.pad(t, (0, width - t.shape[-1])) for t in tiles]
    img = (torch.cat(tiles, dim=-2) * 255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(img).save(W / "style_grid.jpg", quality=88)
    print("columns: photo, " + ", ".join(models))


if __name__ == "__main__":
    main()
