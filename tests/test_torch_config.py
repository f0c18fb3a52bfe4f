"""rung.torch: which torch optimizer, schedule, loss, model and init a config builds, and the default space."""

import math
import os
import warnings

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small tensors: one thread is faster than two on a shared machine
from torch import nn

import rung
import rung.torch as rt
from rung.torch._config import resolve
from rung.torch._layers import initialize

TINY = (torch.randn(60, 6, generator=torch.Generator().manual_seed(0)), torch.arange(60) % 3)


def _optimizer(**config):
    full = resolve(config)
    return rt.build_optimizer(nn.Linear(3, 2).parameters(), full)


@pytest.mark.parametrize("config, cls, expected", [
    ({"optimizer": "sgd", "lr": 0.1}, torch.optim.SGD, {"lr": 0.1, "momentum": 0, "nesterov": False}),
    ({"optimizer": "momentum", "lr": 0.05, "momentum": 0.8, "weight_decay": 1e-4}, torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.8, "nesterov": False, "weight_decay": 1e-4}),
    ({"optimizer": "nesterov", "momentum": 0.95}, torch.optim.SGD, {"momentum": 0.95, "nesterov": True}),
    ({"optimizer": "asgd", "asgd_lambd": 1e-3, "asgd_alpha": 0.6}, torch.optim.ASGD, {"lambd": 1e-3, "alpha": 0.6}),
    ({"optimizer": "adagrad", "adagrad_lr_decay": 1e-3}, torch.optim.Adagrad, {"lr_decay": 1e-3}),
    ({"optimizer": "rmsprop", "rmsprop_alpha": 0.95, "momentum": 0.5}, torch.optim.RMSprop,
     {"alpha": 0.95, "momentum": 0.5}),
    ({"optimizer": "adadelta", "adadelta_rho": 0.85}, torch.optim.Adadelta, {"rho": 0.85}),
    ({"optimizer": "adam", "beta1": 0.85, "beta2": 0.995, "amsgrad": True}, torch.optim.Adam,
     {"betas": (0.85, 0.995), "amsgrad": True}),
    ({"optimizer": "adamw", "weight_decay": 0.01}, torch.optim.AdamW, {"betas": (0.9, 0.999), "weight_decay": 0.01}),
    ({"optimizer": "adafactor", "lr": 0.02, "adafactor_beta2_decay": -0.7, "adafactor_d": 1.5},
     torch.optim.Adafactor, {"lr": 0.02, "beta2_decay": -0.7, "d": 1.5}),
])
def test_each_optimizer_is_torchs_class_with_its_own_parameters(config, cls, expected):
    optimizer = _optimizer(**config)
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    for key, value in expected.items():
        assert group[key] == value, key
    if cls is not torch.optim.SGD and cls is not torch.optim.RMSprop:
        assert "momentum" not in group


def test_an_unknown_entry_is_an_error_naming_it_and_an_inapplicable_one_warns():
    with pytest.raises(rt.ConfigError, match="'learning_rate'.*did you mean 'lr'"):
        resolve({"learning_rate": 0.1})
    with pytest.warns(UserWarning, match="'momentum' does not apply to optimizer='adam'"):
        resolve({"optimizer": "adam", "momentum": 0.9, "schedule": "cosine"})
    with pytest.raises(rt.ConfigError, match="optimizer='lion' is not one of"):
        _optimizer(optimizer="lion")
    assert resolve({"width": 3}, frozenset({"width"}))["width"] == 3


def _schedule(optimizer_name="momentum", steps=10, **config):
    full = resolve({"optimizer": optimizer_name, **config})
    model = nn.Linear(3, 1)
    optimizer = rt.build_optimizer(model.parameters(), full)
    return optimizer, rt.build_schedule(optimizer, full, steps)


def _run(optimizer, schedule, epochs, steps, metric=1.0):
    lrs, momenta = [], []
    for _ in range(epochs):
        for _ in range(steps):
            optimizer.step()
            schedule.after_batch()
            lrs.append(optimizer.param_groups[0]["lr"])
            momenta.append(optimizer.param_groups[0].get("momentum"))
        schedule.after_epoch(metric)
    return lrs, momenta


def test_cyclic_schedule_steps_per_batch_with_cyclical_momentum_against_the_lr():
    optimizer, schedule = _schedule(lr=0.1, schedule="cyclic", cycle_epochs=2, min_lr_factor=0.01, epochs=4,
                                    min_momentum=0.8, max_momentum=0.9)
    assert type(schedule.scheduler) is torch.optim.lr_scheduler.CyclicLR and schedule.per_batch
    assert schedule.scheduler.total_size == 20  # a cycle of 2 epochs of 10 batches
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.001)
    lrs, momenta = _run(optimizer, schedule, epochs=2, steps=10)
    assert max(lrs) == pytest.approx(0.1) and lrs[9] == pytest.approx(0.1)
    assert momenta[9] == pytest.approx(0.8)  # lowest momentum at the peak learning rate
    assert lrs[-1] == pytest.approx(0.001) and momenta[-1] == pytest.approx(0.9)


def test_one_cycle_peaks_at_lr_and_starts_at_min_lr_factor():
    optimizer, schedule = _schedule("adam", lr=0.2, schedule="one_cycle", epochs=3, min_lr_factor=0.1,
                                    pct_start=0.5, anneal_strategy="linear")
    assert type(schedule.scheduler) is torch.optim.lr_scheduler.OneCycleLR
    assert schedule.scheduler.total_steps == 30
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    assert optimizer.param_groups[0]["betas"][0] == pytest.approx(0.95)
    lrs, _ = _run(optimizer, schedule, epochs=3, steps=10)
    assert max(lrs) == pytest.approx(0.2)


def test_epoch_schedules_follow_torch_exactly():
    optimizer, schedule = _schedule("sgd", lr=1.0, schedule="warmup", epochs=5, warmup_epochs=2,
                                    warmup_start_factor=0.5, warmup_then="linear", linear_end_factor=0.25)
    assert type(schedule.scheduler) is torch.optim.lr_scheduler.SequentialLR
    seen = [optimizer.param_groups[0]["lr"]]
    for _ in range(5):
        optimizer.step()
        schedule.after_epoch(0.0)
        seen.append(optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([0.5, 0.75, 1.0, 0.75, 0.5, 0.25])
    optimizer, schedule = _schedule("sgd", lr=1.0, schedule="plateau", plateau_factor=0.5, plateau_patience=1)
    for loss in (1.0, 1.0, 1.0):
        optimizer.step()
        schedule.after_epoch(loss)
    assert optimizer.param_groups[0]["lr"] == 0.5
    kinds = {"step": "StepLR", "multistep": "MultiStepLR", "exponential": "ExponentialLR",
             "polynomial": "PolynomialLR", "linear": "LinearLR", "cosine": "CosineAnnealingLR",
             "cosine_restarts": "CosineAnnealingWarmRestarts"}
    for name, cls in kinds.items():
        assert type(_schedule(schedule=name)[1].scheduler).__name__ == cls
    assert _schedule(schedule="multistep", milestones="0.5,0.75", epochs=8)[1].scheduler.milestones == {4: 1, 6: 1}
    assert _schedule(schedule="constant")[1].scheduler is None


def test_cyclical_momentum_on_an_optimizer_without_it_warns_and_cycles_the_lr_alone():
    with pytest.warns(UserWarning, match="cycle_momentum=True does not apply to optimizer='adagrad'"):
        _, schedule = _schedule("adagrad", schedule="cyclic")
    assert schedule.scheduler.cycle_momentum is False


def test_models_batch_norm_placement_and_lenet_variants():
    config = resolve({"layers": 2, "units_1": 8, "units_2": 4, "batch_norm": "before", "activation": "elu",
                      "dropout": 0.1})
    mlp = rt.build_model("mlp", config, (6,), 3)
    kinds = [type(m).__name__ for m in mlp.net]
    assert kinds == ["Flatten", "Linear", "BatchNorm1d", "ELU", "Dropout", "Linear", "BatchNorm1d", "ELU",
                     "Dropout", "Linear"]
    after = rt.build_model("mlp", {**config, "batch_norm": "after", "dropout": 0.0}, (6,), 3)
    assert [type(m).__name__ for m in after.net][1:4] == ["Linear", "ELU", "BatchNorm1d"]
    classic = rt.build_model("lenet_classic", resolve({}), (1, 28, 28), 10)
    modern = rt.build_model("lenet", resolve({}), (1, 28, 28), 10)
    kinds_classic = {type(m).__name__ for m in classic.modules()}
    kinds_modern = {type(m).__name__ for m in modern.modules()}
    assert {"Sigmoid", "AvgPool2d"} <= kinds_classic and not {"ReLU", "MaxPool2d"} & kinds_classic
    assert {"ReLU", "MaxPool2d"} <= kinds_modern and not {"Sigmoid", "AvgPool2d"} & kinds_modern
    assert modern(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert classic.classifier[0].in_features == 16 * 5 * 5
    softmax = rt.build_model("softmax", resolve({}), (1, 8, 8), 10)
    assert [type(m).__name__ for m in softmax.net] == ["Flatten", "Linear"]


@pytest.mark.parametrize("scheme, reference", [
    ("lecun_normal", lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear")),
    ("xavier_uniform", lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))),
    ("kaiming_normal", lambda w: nn.init.kaiming_normal_(w, nonlinearity="tanh")),
])
def test_inits_are_torchs_with_the_activations_gain(scheme, reference):
    torch.manual_seed(3)
    model = nn.Linear(50, 40)
    initialize(model, scheme, "tanh")
    torch.manual_seed(3)
    expected = nn.Linear(50, 40)
    reference(expected.weight)
    assert torch.equal(model.weight, expected.weight)
    assert torch.count_nonzero(model.bias) == 0


@pytest.mark.parametrize("activation, reference", [
    ("relu", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
    ("gelu", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
    ("tanh", lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))),
    ("sigmoid", lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("sigmoid"))),
    ("selu", lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear")),
])
def test_auto_init_is_the_default_and_picks_by_the_activation(activation, reference):
    assert resolve({})["init"] == "auto"
    torch.manual_seed(5)
    model = nn.Linear(30, 20)
    initialize(model, "auto", activation)
    torch.manual_seed(5)
    expected = nn.Linear(30, 20)
    reference(expected.weight)
    assert torch.equal(model.weight, expected.weight)


def test_every_activation_builds_and_runs():
    x = torch.linspace(-2, 2, 12).reshape(3, 4)
    for name in rt.ACTIVATIONS:
        config = resolve({"activation": name, "layers": 1, "units_1": 5})
        assert rt.build_model("mlp", config, (4,), 2)(x).shape == (3, 2)


def test_default_space_conditions_hold_in_every_sampled_config_and_every_config_builds():
    space = rung.Space(rt.default_space("mlp", epochs=4))
    objective = rt.TrainingObjective("mlp", TINY)
    rng = np.random.default_rng(1)
    seen_optimizers, seen_schedules = set(), set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cycle_momentum on optimizers without momentum
        for _ in range(120):
            config = space.sample(rng)
            seen_optimizers.add(config["optimizer"])
            seen_schedules.add(config["schedule"])
            assert ("momentum" in config) == (config["optimizer"] in ("momentum", "nesterov", "rmsprop"))
            assert ("beta1" in config) == (config["optimizer"] in ("adam", "adamw"))
            assert ("adafactor_d" in config) == (config["optimizer"] == "adafactor")
            for k in range(2, 5):
                assert (f"units_{k}" in config) == (config["layers"] >= k)
            assert ("cyclic_gamma" in config) == (config.get("cyclic_mode") == "exp_range")
            assert ("pct_start" in config) == (config["schedule"] == "one_cycle")
            assert ("label_smoothing" in config) == (config["loss"] == "cross_entropy")
            parts = objective.build(config)
            assert type(parts.optimizer).__name__.lower() in {
                "sgd", "asgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adafactor"}
    assert seen_optimizers == set(rt.OPTIMIZERS)
    assert seen_schedules == set(rt.SCHEDULES)


def test_default_space_narrows_and_replaces_entries():
    space = rt.default_space("lenet", optimizers=["adam"], schedules=["one_cycle"], activations=["relu", "gelu"],
                             epochs=6, dropout=None, batch_size=32)
    assert space["optimizer"] == "adam" and space["schedule"] == "one_cycle" and space["epochs"] == 6
    assert "momentum" not in space and "dropout" not in space and space["batch_size"] == 32
    assert not space["beta1"].conditions and not space["pct_start"].conditions
    assert "layers" not in space and "units_1" not in space
    assert sorted(space["init"].values) == sorted(set(rt.INITS) - {"auto"})  # each scheme once
    without_loss = rt.default_space("mlp", loss=None, layers=None)
    assert "label_smoothing" not in without_loss and "units_2" not in without_loss and "units_1" in without_loss
    with pytest.raises(rt.ConfigError, match="optimizers must be a non-empty list"):
        rt.default_space(optimizers=["adam", "lion"])
    with pytest.raises(rt.ConfigError, match="no entry 'learning_rate'"):
        rt.default_space(learning_rate=0.1)
    regression = rt.default_space("mlp", task="regression")
    assert set(regression["loss"].values) == {"mse", "l1", "huber", "smooth_l1"}
    assert "label_smoothing" not in regression


def test_losses_fit_the_task():
    objective = rt.TrainingObjective("mlp", (TINY[0], TINY[0][:, 0]), task="regression")
    assert type(objective.build({"loss": "huber"}).loss) is nn.HuberLoss
    with pytest.raises(rt.ConfigError, match="loss='cross_entropy' does not fit task='regression'"):
        objective.build({"loss": "cross_entropy"})
    nll = rt.TrainingObjective("mlp", TINY).build({"loss": "nll"})
    assert type(nll.loss) is nn.NLLLoss and nll.log_softmax
    _, history = rt.TrainingObjective("mlp", (TINY[0], (TINY[1] > 0).float()), task="binary").fit({"epochs": 1})
    assert 0.0 <= history[0]["validation_error"] <= 1.0 and math.isfinite(history[0]["validation_loss"])


# -- the space is checked when the Tuner is built, before any trial --------------------------
def _tuner(objective, space, **options):
    return rung.Tuner(objective, space, metric="validation_error", mode="min", max_trials=2, storage=":memory:",
                      verbose=0, backend="inprocess", **options)


@pytest.mark.parametrize("space, message", [
    ({"optimizer": rung.choice(["adam", "adamm"])},
     r"space entry 'optimizer': choice option 'adamm' is not one of .*\(did you mean 'adam'\?\)"),
    ({"optimizer": "Momentum"}, r"'optimizer': fixed value 'Momentum' .*\(did you mean 'momentum'\?\)"),
    ({"schedule": rung.choice(["constant", "cosin"])}, r"'schedule': choice option 'cosin' .*did you mean 'cosine'"),
    ({"activation": "swish"}, r"'activation': fixed value 'swish' is not one of"),
    ({"activation": rung.choice(["relu", "Gelu"])}, r"'activation': choice option 'Gelu' .*did you mean 'gelu'"),
    ({"loss": "cross_entropi"}, r"'loss': fixed value 'cross_entropi' .*did you mean 'cross_entropy'"),
    ({"loss": "mse"}, r"'loss': fixed value 'mse' does not fit task='classification'"),
    ({"batch_norm": "afterwards"}, r"'batch_norm': fixed value 'afterwards'"),
    ({"init": rung.choice(["default", "he_normal"])}, r"'init': choice option 'he_normal'"),
    ({"schedule": "cyclic", "cyclic_mode": "triangle"}, r"'cyclic_mode': fixed value 'triangle' .*'triangular'"),
    ({"schedule": "one_cycle", "anneal_strategy": "cosine"}, r"'anneal_strategy': fixed value 'cosine'"),
    ({"schedule": "warmup", "warmup_then": "cos"}, r"'warmup_then': fixed value 'cos'"),
    ({"layers": rung.randint(1, 6)}, r"'layers': possible value 5 is not one of 1, 2, 3, 4"),
    ({"optimizer": rung.uniform(0, 1)}, r"'optimizer' names one of .*give it as a fixed value or a rung.choice"),
    ({"schedule": "multistep", "milestones": rung.choice(["0.5,0.75", "half"])},
     r"'milestones': choice option 'half' is not a list of fractions"),
    ({"learning_rate": rung.loguniform(1e-4, 1e-1)}, r"unknown space entry 'learning_rate' \(did you mean 'lr'\?\)"),
    ({"optimiser": "adam"}, r"unknown space entry 'optimiser' \(did you mean 'optimizer'\?\)"),
    ({"optimizer": rung.choice(["sgd", "momentum"]),
      "momentum": rung.uniform(0.8, 0.99).when("optimizer", "==", "momentun")},
     r"'momentum': its condition optimizer == 'momentun' compares 'optimizer' with 'momentun'.*did you mean 'momentum'"),
    ({"schedule": rung.choice(["cosine", "step"]), "step_size": rung.randint(1, 3).when("schedule", "in", ["stepp"])},
     r"'step_size': its condition .* compares 'schedule' with 'stepp'"),
])
def test_the_tuner_refuses_a_space_the_objective_cannot_train_naming_the_entry_and_value(space, message):
    with pytest.raises(rt.ConfigError, match=message):
        _tuner(rt.TrainingObjective("mlp", TINY), space)


def test_no_trial_runs_and_no_data_is_loaded_when_the_space_is_refused():
    calls = []

    class Counting(rt.TrainingObjective):
        def __call__(self, config):
            calls.append(config)
            return super().__call__(config)

    objective = Counting("mlp", lambda: calls.append("data") or TINY)
    with pytest.raises(rt.ConfigError, match="'optimizer': choice option 'lion'"):
        _tuner(objective, {"optimizer": rung.choice(["adam", "lion"]), "epochs": 1})
    assert calls == [] and objective.data_loads == 0
    # The same objective with a good space builds, and then runs its trials.
    result = _tuner(objective, {"optimizer": rung.choice(["adam", "sgd"]), "epochs": 1}).run()
    assert len(result.trials) == 2 and len([call for call in calls if call != "data"]) == 2


def test_what_the_check_accepts():
    objective = rt.TrainingObjective("mlp", TINY)
    for model in ("mlp", "lenet", "softmax", "custom"):
        _tuner(objective, rt.default_space(model, epochs=4))
    _tuner(rt.TrainingObjective("mlp", TINY, task="regression"), rt.default_space("mlp", task="regression"))
    _tuner(objective, {"activation": None, "loss": None, "layers": rung.choice([1, 4])})
    _tuner(rt.TrainingObjective("mlp", TINY, extra_entries=["width"]), {"width": rung.randint(2, 8)})
    with pytest.raises(rt.ConfigError, match="unknown space entry 'width'"):
        _tuner(objective, {"width": rung.randint(2, 8)})


def test_an_entry_no_choice_of_the_space_uses_warns_at_build_time_from_the_callers_line():
    objective = rt.TrainingObjective("mlp", TINY)
    with pytest.warns(UserWarning, match="space entry 'momentum' does not apply to any optimizer .*'adam'") as caught:
        _tuner(objective, {"optimizer": "adam", "momentum": rung.uniform(0.8, 0.9)})
    assert caught[0].filename == __file__
    with pytest.warns(UserWarning, match="'pct_start' does not apply to any schedule"):
        _tuner(objective, {"schedule": rung.choice(["cosine", "step"]), "pct_start": 0.3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tuner(objective, {"optimizer": rung.choice(["adam", "momentum"]), "momentum": rung.uniform(0.8, 0.9)})


def test_the_tuner_calls_an_objectives_rung_check_space_once_with_the_space_and_warm_forwards_it():
    from rung.space import Space

    seen = []

    class Checked:
        def rung_check_space(self, space):
            seen.append(space)
            if "bad" in space.names:
                raise ValueError("entry 'bad' is refused")

        def __call__(self, config):
            seen.append("trial")
            return {"validation_error": 0.5}

    _tuner(Checked(), {"x": rung.uniform(0, 1)})
    assert len(seen) == 1 and isinstance(seen[0], Space) and seen[0].names == ["x"]
    seen.clear()
    with pytest.raises(ValueError, match="entry 'bad' is refused"):
        _tuner(rt.warm(Checked()), {"bad": 1})
    assert len(seen) == 1 and "trial" not in seen

    class NotAMethod:
        rung_check_space = 3

        def __call__(self, config):
            return 0.0

    with pytest.raises(TypeError, match="rung_check_space must be a method"):
        _tuner(NotAMethod(), {"x": 1})
    _tuner(rt.warm(lambda config: 0.0), {"x": 1})  # no hook to forward: nothing checked


# -- small prepared data travel to the workers with the objective ----------------------------
def _logged_data(path):
    def load():
        with open(path, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return TINY
    return load


def test_data_prepared_in_the_tuner_travel_to_the_workers_which_then_prepare_nothing(tmp_path):
    log = tmp_path / "loads.txt"
    objective = rt.TrainingObjective("mlp", _logged_data(str(log)))
    objective.fit({"epochs": 1, "layers": 1, "units_1": 4})  # e.g. a look at the data before tuning
    space = {"lr": rung.loguniform(1e-3, 1e-1), "epochs": 1, "layers": 1, "units_1": 4, "optimizer": "sgd"}
    result = rung.Tuner(objective, space, metric="validation_error", mode="min", searcher="random", seed=0,
                        backend="process", n_workers=2, max_trials=4, storage=":memory:", verbose=0).run()
    assert result.count("completed") == 4
    assert log.read_text().split() == [str(os.getpid())]  # prepared once, here; no worker loaded it


def test_which_data_the_pickled_objective_carries():
    import pickle

    unprepared = rt.TrainingObjective("mlp", TINY)
    assert pickle.loads(pickle.dumps(unprepared))._prepared is None  # prepared by each worker's warm-up
    unprepared.prepared()
    copy = pickle.loads(pickle.dumps(unprepared))
    assert copy._prepared is not None and copy.data_loads == 0
    assert torch.equal(copy._prepared.train.x, unprepared._prepared.train.x)
    named = rt.TrainingObjective("softmax", "digits")
    assert pickle.loads(pickle.dumps(named))._prepared.train.x.shape[1:] == (1, 8, 8)  # prepared here, once
    dataset = rt.TrainingObjective("mlp", torch.utils.data.TensorDataset(*TINY))
    dataset.prepared()
    assert pickle.loads(pickle.dumps(dataset))._prepared is None  # a Dataset is not copied to the workers


def test_prepared_data_above_the_limit_stay_behind(monkeypatch):
    import pickle

    import rung.torch._objective as module

    objective = rt.TrainingObjective("mlp", TINY)
    objective.prepared()
    monkeypatch.setattr(module, "SHIP_LIMIT_BYTES", 100)
    assert pickle.loads(pickle.dumps(objective))._prepared is None
