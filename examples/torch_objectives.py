"""Ready rung.torch objectives for YAML specs (``trial: {function: torch_objectives:lenet_digits}``).

A spec's ``function:`` names a module attribute; these are TrainingObjective instances, so
a spec tunes the ready objective without any training code. Data load once per worker.
"""

import rung.torch

# LeNet (modern: ReLU, max pooling) on scikit-learn's digits upsampled to 28x28, 20% held out.
lenet_digits = rung.torch.TrainingObjective("lenet", "digits", valid_fraction=0.2, seed=0)

# Softmax regression on the digits (8x8).
softmax_digits = rung.torch.TrainingObjective("softmax", "digits", valid_fraction=0.2, seed=0)
