"""Reads --config=<file> and reports with a RUNG_REPORT line (no rung import needed)."""

import json
import os
import sys

(path,) = [argument.split("=", 1)[1] for argument in sys.argv[1:] if argument.startswith("--config=")]
with open(path) as file:
    config = json.load(file)
with open(os.path.join(os.environ["RUNG_TRIAL_DIR"], "seen.json"), "w") as file:
    json.dump({"argv": sys.argv[1:], "config": config, "env_file": os.environ["RUNG_CONFIG_FILE"]}, file)
print("RUNG_REPORT " + json.dumps({"loss": config["x"] ** 2, "n_layers": len(config["layers"])}), flush=True)
