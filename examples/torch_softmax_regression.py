"""Softmax regression, tuned as in the seeds: learning rate and batch size, ASHA over epochs.

Fashion-MNIST when a data directory with its IDX files is given (``--data-dir DIR``; read
through torchvision when installed, else by rung's own IDX reader; nothing is downloaded),
scikit-learn's digits otherwise. The validation set is held out from the training data; the
test set is evaluated once, for the best config only, at the end.

    python examples/torch_softmax_regression.py [--data-dir ~/data/fashion-mnist] [--trials 30]
"""

import argparse
import json

import torch
from sklearn.model_selection import train_test_split

import rung
import rung.torch


def data(data_dir):
    """(training data, test data): Fashion-MNIST's own split, or a stratified 20% of the digits."""
    if data_dir:
        return (rung.torch.datasets.fashion_mnist(data_dir, train=True),
                rung.torch.datasets.fashion_mnist(data_dir, train=False))
    x, y = rung.torch.datasets.digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    return (x_train, y_train), (x_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with Fashion-MNIST's IDX files (default: the digits)")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    train, test = data(args.data_dir)
    objective = rung.torch.TrainingObjective("softmax", train, test_data=test, valid_fraction=0.2, seed=0)
    # The seeds' space: learning rate in [1e-6, 1e-1] (log), batch size in [8, 256]; plain SGD.
    space = {"lr": rung.loguniform(1e-6, 1e-1), "batch_size": rung.qloguniform(8, 256, 8),
             "epochs": args.epochs, "optimizer": "sgd"}
    result = rung.Tuner(objective, space, metric="validation_error", mode="min",
                        scheduler=rung.schedulers.ASHA("epoch", min_resource=1, max_resource=args.epochs),
                        n_workers=2, max_trials=args.trials, seed=0).run()
    print(f"best validation error {result.best_value:.4f} with {json.dumps(result.best_config)}")
    print("test set, evaluated once for the best config:", objective.evaluate_test(result.best_config))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
