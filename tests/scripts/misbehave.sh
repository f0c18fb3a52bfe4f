#!/usr/bin/env bash
# Ends badly in the way named by --kind=...
kind="${1#--kind=}"
echo "kind $kind"
case "$kind" in
    exit3)
        echo "first stderr line" >&2
        echo "CUDA out of memory (pretend)" >&2
        exit 3 ;;
    segv)
        kill -SEGV $$ ;;
    malformed)
        echo 'RUNG_REPORT {"loss": 0.5'
        sleep 30 ;;
    no_space)
        echo 'RUNG_REPORT{"loss": 0.5}' ;;
esac
