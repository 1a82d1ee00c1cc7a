#!/usr/bin/env bash
# Issue 15 item 4: the one prepared H200 command (~8 minutes). From the repo root, with .whl/ and .gpudata/
# carried (README "Pretraining on several GPUs" says how to prepare them):
#   bash configs/gpu/issue15_h200.sh
# 0. installs the carried wheels (rdkit, pydantic & deps) into /tmp/site when they do not import;
# 1. featurizes the carried MOSES train CSV (1.58M SMILES) with --workers $WORKERS (timed);
# 2. harmony speed pretrain: graphs/s of the full teacher-student step at hidden $HIDDEN, bf16, batch $BATCH,
#    with the objective of configs/pretrain/moses_gpu.yaml -> $OUT/speed_pretrain.json;
# 3. harmony pretrain --config configs/pretrain/moses_gpu.yaml with max_steps sized from step 2's rate so the
#    whole script ends near $BUDGET_S seconds; the slim encoder (no optimizer / difficulty buffer) -> $OUT;
# 4. one SUMMARY line (also $OUT/summary.json). Everything is also in $OUT/log.txt (at most 8 files in $OUT).
# The same script on CPU with tiny sizes (how it is tested):
#   ROWS=2000 DEVICE=cpu WORKERS=2 STEPS=5 BATCH=64 SPEED_N=256 SPEED_STEPS=2 SPEED_ROUNDS=1 OUT=/tmp/gpu_out \
#     DATASET=/tmp/issue15_ds RUN_DIR=/tmp/issue15_run bash configs/gpu/issue15_h200.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${PY:-python3}
OUT=${OUT:-/tmp/gpu_out}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-16}
ROWS=${ROWS:-0}              # > 0: featurize only the first ROWS molecules
STEPS=${STEPS:-0}            # > 0: fixed max_steps; 0: sized from the measured rate and the time left
BATCH=${BATCH:-2048}
HIDDEN=${HIDDEN:-300}
BUDGET_S=${BUDGET_S:-480}    # the whole script's target wall time
RESERVE_S=${RESERVE_S:-75}   # pretrain start-up (load 1.58M graphs, move to GPU) + final save + export
SAFETY=${SAFETY:-0.8}        # share of the speed-bench rate the training loop is planned at
SPEED_N=${SPEED_N:-8192}     # molecules of the speed bench (MOSES 10k sample; 4 batches of 2048)
SPEED_STEPS=${SPEED_STEPS:-10}
SPEED_ROUNDS=${SPEED_ROUNDS:-3}
FEAT_TIMEOUT=${FEAT_TIMEOUT:-240}    # hard stops of the featurize and speed stages (s)
SPEED_TIMEOUT=${SPEED_TIMEOUT:-150}
CONFIG=${CONFIG:-configs/pretrain/moses_gpu.yaml}
DATA=${GPU_DATA:-$ROOT/.gpudata}
DATASET=${DATASET:-$ROOT/runs/datasets/moses-train}
RUN_DIR=${RUN_DIR:-$ROOT/runs/pretrain/moses_gpu}
PRETRAIN_SET=${PRETRAIN_SET:-}  # extra pretrain overrides, space-separated key=value
export PYTHONUNBUFFERED=1 HARMONY_DATA_DIR=$DATA
mkdir -p "$OUT"
LOG=$OUT/log.txt
: >"$LOG"
FAILED=()
stage() { printf '\n== [%4ds] %s\n' "$SECONDS" "$*" | tee -a "$LOG"; }
HARMONY=("$PY" -c 'import sys; sys.argv[0] = "harmony"; from harmony_mol.cli import main; main()')
helper() { "$PY" configs/gpu/issue15_helpers.py "$@"; }

stage "0 environment and carried wheels"
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
if [ -d .whl ] && { [ -n "${WHEELS:-}" ] || ! "$PY" -c 'import rdkit, pydantic' 2>/dev/null; }; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    2>&1 | tee -a "$LOG"
  export PYTHONPATH=/tmp/site:$PYTHONPATH
  echo "installed $(ls .whl | tr '\n' ' ')" | tee -a "$LOG"
fi
{ if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version \
  --format=csv,noheader || true; fi; echo "nproc $(nproc)"; } 2>&1 | tee -a "$LOG"
"$PY" - <<'EOF' 2>&1 | tee -a "$LOG"
import importlib.metadata as md, sys
import harmony_mol.cli, harmony_mol.data.build, harmony_mol.ssl.pretrain, featurizers.molecule  # noqa: F401
import rdkit, torch
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(),
      "rdkit", rdkit.__version__, "pydantic", md.version("pydantic"), "pyg", md.version("torch_geometric"))
EOF

stage "1 featurize MOSES train (workers $WORKERS, rows ${ROWS/#0/all})"
SRC=$DATA/pretrain/moses_full/train.csv.gz
if [ "$ROWS" -gt 0 ]; then
  SRC=/tmp/issue15_moses_$ROWS.csv
  { zcat "$DATA/pretrain/moses_full/train.csv.gz" || true; } | head -n $((ROWS + 1)) >"$SRC"
fi
T0=$SECONDS
if ! timeout -k 10 "$FEAT_TIMEOUT" "${HARMONY[@]}" featurize --input "$SRC" --output "$DATASET" --workers "$WORKERS" \
    --no-progress --json >/tmp/issue15_featurize.json 2> >(tee -a "$LOG" >&2); then
  FAILED+=(featurize)
fi
tee -a "$LOG" </tmp/issue15_featurize.json
echo "featurize wall $((SECONDS - T0)) s" | tee -a "$LOG"

stage "2 speed pretrain (hidden $HIDDEN, batch $BATCH, $DEVICE, $SPEED_N graphs)"
mapfile -t OVR < <(helper overrides "$CONFIG" "$HIDDEN")
SETS=()
for o in "${OVR[@]}"; do SETS+=(--set "$o"); done
if timeout -k 10 "$SPEED_TIMEOUT" "${HARMONY[@]}" speed pretrain --n-graphs "$SPEED_N" --batch-size "$BATCH" \
    --steps "$SPEED_STEPS" --rounds "$SPEED_ROUNDS" --hidden "$HIDDEN" --device "$DEVICE" "${SETS[@]}" --json \
    >"$OUT/speed_pretrain.json" 2> >(tee -a "$LOG" >&2); then
  "$PY" -c 'import json, sys; from harmony_mol.benchmark.speed.pretrain import format_report as f
print(f(json.load(open(sys.argv[1]))))' "$OUT/speed_pretrain.json" 2>&1 | tee -a "$LOG"
else
  FAILED+=(speed)
fi

stage "3 pretrain ($CONFIG)"
if [ "$STEPS" -gt 0 ]; then MAX_STEPS=$STEPS; else
  MAX_STEPS=$(helper steps "$OUT/speed_pretrain.json" "$BATCH" $((BUDGET_S - RESERVE_S - SECONDS)) "$SAFETY") \
    || MAX_STEPS=0
fi
LEFT=$((BUDGET_S + 30 - SECONDS))  # hard stop: last.pt (checkpoint_every, epoch ends) is exported instead
echo "max_steps ${MAX_STEPS} (0: the config's epochs), hard stop in ${LEFT} s" | tee -a "$LOG"
rm -rf "$RUN_DIR"
ARGS=(dataset="$DATASET" out_dir="$RUN_DIR" device="$DEVICE" batch_size="$BATCH" encoder.hidden_dim="$HIDDEN"
      encoder.wgcn_hidden="$HIDDEN" encoder.mlp_hidden="$HIDDEN")
[ "$MAX_STEPS" -gt 0 ] && ARGS+=(max_steps="$MAX_STEPS")
# shellcheck disable=SC2206
ARGS+=($PRETRAIN_SET)
if [ "${FAILED[0]:-}" = featurize ] || [ "$LEFT" -lt 60 ]; then
  echo "pretrain skipped (featurize failed or under 60 s left)" | tee -a "$LOG"
  FAILED+=(pretrain)
else
  if ! timeout -k 15 "$LEFT" "${HARMONY[@]}" pretrain --config "$CONFIG" "${ARGS[@]}" 2>&1 | tee -a "$LOG"; then
    FAILED+=(pretrain)
  fi
  if [ -f "$RUN_DIR/encoder.pt" ] || [ -f "$RUN_DIR/last.pt" ]; then
    helper export "$RUN_DIR" "$OUT/encoder.pt" 2>&1 | tee -a "$LOG" || FAILED+=(export)
  fi
  for f in loss.csv config.yaml loss.png; do  # a loss.csv the export wrote from last.pt is the newer one
    if [ -f "$RUN_DIR/$f" ] && [ ! -f "$OUT/$f" ]; then cp "$RUN_DIR/$f" "$OUT/"; fi
  done
fi

stage "4 summary"
ls -l "$OUT" | tee -a "$LOG"
helper summary "$OUT" /tmp/issue15_featurize.json "$BATCH" "$SECONDS" 2>&1 | tee -a "$LOG"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "FAILED stages: ${FAILED[*]}" | tee -a "$LOG"
  exit 1
fi
