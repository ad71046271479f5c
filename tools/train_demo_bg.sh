#!/usr/bin/env bash
# Run (or continue) the demo training in the background, resumable, logging to runs/demo/train.log.
# Usage: bash tools/train_demo_bg.sh [--threads N]   (stop it with: kill $(cat runs/demo/train.pid))
# --threads 1 leaves a core free for other work on a 2-core machine (OpenMP threads that share
# a core with another busy process slow down far more than half).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/demo
nohup .venv/bin/animegan-edu train --config configs/demo.yaml --export runs/demo/generator.safetensors "$@" >> runs/demo/train.log 2>&1 &
echo $! > runs/demo/train.pid
echo "training in the background (pid $(cat runs/demo/train.pid)); log: runs/demo/train.log"
