"""A real tuning experiment: LeNet on scikit-learn's digits with rung.torch, 2 worker processes.

The ready objective (``rung.torch.TrainingObjective``) trains the modern LeNet (ReLU, max
pooling) on the 1,797 digits upsampled to 28x28, holds out a stratified 20% as the
validation set, and reports the validation error after every epoch. The space is
``rung.torch.default_space("lenet")`` narrowed to the optimizers, activations and schedules
that suit a small CNN: learning rate, batch size, optimizer with its own parameters
(momentum, betas, ...), weight decay, activation, dropout, batch-norm placement,
initialization and LR schedule (one-cycle and cyclic included). The default searcher picks
configs; ASHA compares trials at epochs 1, 3 and 9 and stops the ones outside the top
third, so most epochs go to promising configs. Each worker loads the data and warms torch
once; every trial is a fork of that warm worker. rung shows live progress, records
everything in the default store ($RUNG_HOME/rung.db), and prints the best config.
Run with ``make demo`` (or ``python examples/demo.py`` once rung[demo] is installed).
"""

import json
import sys
from datetime import datetime
from pathlib import Path

import rung
import rung.torch

EPOCHS = 9
MAX_TRIALS = 40

OBJECTIVE = rung.torch.TrainingObjective("lenet", "digits", valid_fraction=0.2, seed=0)

SPACE = rung.torch.default_space(
    "lenet",
    epochs=EPOCHS,
    optimizers=["momentum", "nesterov", "rmsprop", "adam", "adamw"],
    activations=["relu", "leaky_relu", "elu", "gelu", "silu", "tanh"],
    schedules=["constant", "step", "cosine", "warmup", "cyclic", "one_cycle", "plateau"],
    lr=rung.loguniform(1e-4, 1e-1),
    batch_size=rung.choice([16, 32, 64, 128]),
    early_stopping_patience=0,
    early_stopping_min_delta=None,
)


def main() -> None:
    tuner = rung.Tuner(
        OBJECTIVE,
        SPACE,
        metric="validation_error",
        mode="min",
        scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=EPOCHS, reduction_factor=3),
        n_workers=2,
        max_trials=MAX_TRIALS,
        seed=0,
        experiment=f"demo-digits-lenet-{datetime.now():%Y%m%d-%H%M%S}",
    )
    result = tuner.run()
    epochs = int(result.reports.groupby("trial_id")["epoch"].max().sum())
    trials = result.trials
    print(f"best validation error: {result.best_value:.4f} (trial {result.best_trial.trial_id})")
    print("best config:")
    print(json.dumps(result.best_config, indent=2))
    print(f"{len(trials)} trials: {result.count('completed')} ran all {EPOCHS} epochs, "
          f"{result.count('stopped')} stopped early by ASHA; {epochs} epochs in all "
          f"({epochs / (len(trials) * EPOCHS):.0%} of running every trial to the end)")
    print(f"time deciding: {result.decision_time * 1e3:.1f} ms of {result.wallclock:.1f} s wall-clock; "
          f"time in trials: {result.trial_time:.1f} s over {tuner.n_workers} workers")
    try:
        plot = result.plot_metric_per_rung(Path(tuner.workdir) / "metric_per_rung.png")
        print(f"metric per rung: {plot}")
    except ImportError:
        pass
    print(f"stored as experiment {result.experiment!r}; reload with rung.load({result.experiment!r})")
    rung_command = Path(sys.executable).with_name("rung")
    print(f"open it in the live dashboard: {rung_command} dashboard --experiment {result.experiment}")


if __name__ == "__main__":
    main()
