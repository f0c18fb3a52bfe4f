#!/usr/bin/env bash
# Starts a grandchild (its pid goes to $RUNG_TRIAL_DIR/grandchild.pid), reports forever.
# --ignore_term=true: the script and the grandchild ignore SIGTERM.
if [[ "$*" == *"--ignore_term=true"* ]]; then
    trap '' TERM
fi
sleep 100 &
echo $! > "$RUNG_TRIAL_DIR/grandchild.pid"
for ((step = 1; step <= 1000; step++)); do
    echo "RUNG_REPORT {\"step\": $step, \"loss\": 1.0}"
    sleep 0.05
done
