#!/usr/bin/env bash
# A bash training script: reads --x=... and --epochs=..., reports with RUNG_REPORT lines.
set -euo pipefail
x=0
epochs=3
for argument in "$@"; do
    case "$argument" in
        --x=*) x="${argument#--x=}" ;;
        --epochs=*) epochs="${argument#--epochs=}" ;;
    esac
done
echo "bash training with x=$x"
echo "a warning on stderr" >&2
for ((epoch = 1; epoch <= epochs; epoch++)); do
    echo "RUNG_REPORT {\"epoch\": $epoch, \"loss\": $x}"
done
echo "done" > "$RUNG_CHECKPOINT_DIR/bash_was_here"
