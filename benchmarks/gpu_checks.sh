#!/usr/bin/env bash
# The GPU checks in one go (about 6 minutes on one H100): the throughput/MFU benchmark, then the real
# engine end to end on CUDA — import the sample, train, sample candidates — to see the CUDA path work,
# then candidate latency on a gpt2-shaped model.
#   bash benchmarks/gpu_checks.sh [OUTDIR]
set -uo pipefail
out=${1:-${OUT:-/tmp/friendsim-gpu}}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"

echo "== bench_gpu.py (gpt2 124M, our defaults)"
timeout 240 $py benchmarks/bench_gpu.py --time-limit 150 2>&1 | tee "$out/bench_gpu.log"

echo "== engine end to end on CUDA"
d=$(mktemp -d)
timeout 60 $py -m friendsim_tui --data-dir "$d" import "$($py -c 'from friendsim_tui.demo_chat import sample_path; print(sample_path())')" -w weekend-crew
timeout 180 $py -m friendsim_tui --data-dir "$d" train -w weekend-crew --base scratch:small --max-steps 150 --run gpu 2>&1 | tail -12
grep '"type": "start"' "$d/workspaces/weekend-crew/runs/gpu/events.jsonl" | cut -c1-400
grep '"type": "step"' "$d/workspaces/weekend-crew/runs/gpu/events.jsonl" | tail -1
cp "$d/workspaces/weekend-crew/runs/gpu/events.jsonl" "$out/events.jsonl" 2>/dev/null
printf '{"speaker": "Jonas", "text": "Well, is anyone free on Friday?"}\n' > "$d/h.jsonl"
timeout 60 $py -m friendsim_tui --data-dir "$d" generate -w weekend-crew --as Maya --history "$d/h.jsonl" -n 5 --json

echo "== bench_candidates.py on CUDA (our sampling loop: rows leave the batch as they end)"
timeout 150 $py benchmarks/bench_candidates.py --shapes gpt2 --runs 5 --original-runs 1 2>&1 | grep -v "Writing model" \
    | tee "$out/bench_candidates.log"
