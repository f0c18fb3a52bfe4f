"""rung.torch range tests: the learning rates tried, the divergence stop, the rules, the restore, the hand-off."""

import math

import numpy as np
import pytest
import torch

torch.set_num_threads(1)  # small tensors: one thread is faster than two on a shared machine
from torch import nn

import rung
import rung.torch as rt
from rung.torch._range_test import PLATEAU_TOLERANCE, _propose, centered_average

X = torch.randn(200, 6, generator=torch.Generator().manual_seed(0))
Y = (X[:, 0] - X[:, 1] > 0).long()
BATCHES = [(X[i:i + 20], Y[i:i + 20]) for i in range(0, 200, 20)]


def _model_and_optimizer(momentum=0.9):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
    # one real step first, so that the optimizer has momentum buffers to restore
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(X), Y).backward()
    optimizer.step()
    return model, optimizer


def _states(model, optimizer):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {k: v["momentum_buffer"].clone() for k, v in optimizer.state_dict()["state"].items()},
            [dict((key, value) for key, value in g.items() if key != "params") for g in optimizer.param_groups])


def test_the_range_test_raises_the_lr_exponentially_and_restores_model_and_optimizer():
    model, optimizer = _model_and_optimizer()
    before = _states(model, optimizer)
    result = rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, start_lr=1e-4, end_lr=1.0,
                              num_steps=25, diverge_factor=1e9)
    assert len(result.lrs) == 25 and not result.diverged
    expected = [1e-4 * (1.0 / 1e-4) ** (i / 24) for i in range(25)]
    assert result.lrs == pytest.approx(expected, rel=1e-9)
    # the smoothed loss is the bias-corrected moving average of the raw losses
    average = 0.0
    for i, (loss, smooth) in enumerate(zip(result.losses, result.smoothed)):
        average = 0.98 * average + 0.02 * loss
        assert smooth == pytest.approx(average / (1 - 0.98 ** (i + 1)))
    after = _states(model, optimizer)
    for key in before[0]:
        assert torch.equal(before[0][key], after[0][key])
    for key in before[1]:
        assert torch.equal(before[1][key], after[1][key])
    assert before[2] == after[2]


def test_linear_steps_and_a_stop_at_divergence():
    model, optimizer = _model_and_optimizer()
    linear = rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, start_lr=0.01, end_lr=0.2,
                              num_steps=20, step_mode="linear", diverge_factor=1e9)
    assert linear.lrs == pytest.approx(list(np.linspace(0.01, 0.2, 20)))
    wild = rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, start_lr=1e-3, end_lr=1e6,
                            num_steps=60, smoothing=0.5)
    assert wild.diverged and len(wild.lrs) < 60
    last = wild.smoothed[-1]
    assert not math.isfinite(last) or last > 4 * min(wild.smoothed[:-1])
    assert all(v <= 4 * min(wild.smoothed[:i + 1]) for i, v in enumerate(wild.smoothed[:-1]))


def test_the_proposal_rules_on_scripted_curves():
    lrs = np.logspace(-5, 0, 11)
    # falls to its lowest at 7, then a collapse (2.5) and a steep fall back that stays above the lowest
    curve = np.array([2.0, 1.98, 1.9, 1.5, 1.0, 0.9, 0.85, 0.84, 2.5, 0.95, 0.9])
    assert _propose(lrs, curve, "divergence") == 7  # the lowest point
    # the fastest fall per log-lr step before the lowest point (1.9 -> 1.0 around 3); the fall
    # 2.5 -> 0.9 after it is steeper (index 9) but is not a fall towards a new lowest loss
    assert _propose(lrs, curve, "steepest") == 3
    assert int(np.argmin(np.gradient(curve, np.log(lrs)))) == 9
    assert _propose(lrs, curve, "valley") == 4  # the longest fall is 0..7, two thirds along: 0 + 14 // 3
    # valley takes the longest decreasing subsequence, not a contiguous run: the bump at 1 and 4
    # does not break it (2.0, 1.8, 1.7, 1.6, ..., 0.9 is indices 0..9 without 1 and 4): 0 + 18 // 3
    bumpy = np.array([2.0, 2.1, 1.8, 1.7, 1.9, 1.6, 1.4, 1.2, 1.0, 0.9, 1.5])
    assert _propose(lrs, bumpy, "valley") == 6
    assert _propose(lrs[:2], np.array([1.0, 0.5]), "steepest") == 1  # too short to have a slope: the lowest
    # within a tenth of the fall (0.84 + 0.116): 0.9, 0.85, 0.84 at 5..7, cut by the collapse
    assert _propose(lrs, curve, "plateau") == 6


def test_the_plateau_rule_takes_the_middle_of_a_flat_bottom_not_its_noisy_lowest_point():
    lrs = np.logspace(-5, 0, 13)
    # falls by 1.0 to a flat bottom (4..10 within a tenth of the fall: <= 1.1) whose lowest point,
    # by noise, is at its left end (5); the bottom's middle is (4 + 10) // 2
    curve = np.array([2.0, 1.8, 1.5, 1.2, 1.01, 1.0, 1.05, 1.04, 1.06, 1.03, 1.08, 1.5, 2.5])
    assert _propose(lrs, curve, "divergence") == 5
    assert _propose(lrs, curve, "plateau") == 7
    assert PLATEAU_TOLERANCE == 0.1
    # the plateau never reaches past a climb: a second dip after it, however low, is not part of it
    dip = np.array([2.0, 1.5, 1.0, 1.05, 1.6, 1.02, 1.04, 2.0])
    assert _propose(lrs[:8], dip, "plateau") == 2


def _scripted(values):
    """A loss function that returns the scripted values in turn (zero gradient: nothing trains)."""
    queue = iter(values)
    return lambda out, y: out.sum() * 0.0 + next(queue)


def _v_curve():
    """100 losses: flat at 2.3 for 60 steps, a straight fall to 1.0 at step 79, a climb to 2.8 by
    step 93, one blow-up (10.0) at step 94, then 2.0; plus +-0.05 alternating noise."""
    clean = ([2.3] * 60 + list(np.linspace(2.3, 1.0, 21)[1:]) + list(np.linspace(1.0, 2.0, 11)[1:])
             + [2.2, 2.4, 2.6, 2.8, 10.0] + [2.0] * 5)
    return [float(value + 0.05 * (-1) ** i) for i, value in enumerate(clean)]


def test_the_proposal_reads_a_light_zero_lag_curve_cut_at_the_blow_up():
    losses = _v_curve()
    model = nn.Linear(6, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    result = rt.lr_range_test(model, optimizer, _scripted(losses), BATCHES, start_lr=1e-5, end_lr=10.0,
                              num_steps=100)
    assert result.rule == "plateau" and not result.diverged  # the running average never reaches 4x
    assert result.max_lr == result.lrs[_propose(np.asarray(result.lrs[:94]), np.asarray(result.centered[:94]),
                                                "plateau")]
    result = result.with_rule("divergence")
    assert result.losses == pytest.approx(losses)
    # the curve: time constant window * num_steps = 2.5 steps (0.6), up to the raw blow-up at 94
    assert result.centered[:94] == pytest.approx(centered_average(losses[:94], 0.6))
    assert all(math.isnan(v) for v in result.centered[94:])
    assert result.max_lr == result.lrs[79] and result.min_lr == pytest.approx(result.lrs[79] / 10)
    assert result.lrs.index(result.propose("steepest")) < 79 and result.propose("valley") < result.max_lr
    again = result.with_rule("steepest", min_factor=0.01)
    assert again.rule == "steepest" and again.max_lr == result.propose("steepest")
    assert again.min_lr == pytest.approx(again.max_lr / 100) and again.losses is result.losses
    # as slow an average as the stop's (49 steps, the first version's) misplaces the lowest point
    slow = rt.lr_range_test(model, optimizer, _scripted(losses), BATCHES, start_lr=1e-5, end_lr=10.0,
                            num_steps=100, window=0.49)
    assert slow.max_lr != result.max_lr
    with pytest.raises(ValueError, match="window must be in"):
        rt.lr_range_test(model, optimizer, _scripted(losses), BATCHES, window=1.5)
    with pytest.raises(ValueError, match="rule must be one of"):
        result.propose("fastest")


def test_min_lr_is_a_tenth_or_a_hundredth_and_the_proposal_plugs_into_a_run(tmp_path):
    objective = rt.TrainingObjective("mlp", (X, Y))
    result = objective.lr_range_test({"optimizer": "momentum", "layers": 1, "units_1": 8}, start_lr=1e-4,
                                     end_lr=10.0, num_steps=40, min_factor=0.01, rule="divergence")
    assert result.rule == "divergence" and result.min_lr == pytest.approx(result.max_lr / 100)
    domain = result.lr_domain()
    assert (domain.low, domain.high) == pytest.approx((result.min_lr, result.max_lr))
    assert rt.default_space("mlp", lr_range=result)["lr"].low == pytest.approx(result.min_lr)
    config = {"optimizer": "momentum", "epochs": 2, "layers": 1, "units_1": 8, **result.one_cycle()}
    parts = objective.build(config)
    assert type(parts.schedule.scheduler) is torch.optim.lr_scheduler.OneCycleLR
    assert max(parts.schedule.scheduler.get_last_lr()) == pytest.approx(result.max_lr / 100)
    _, history = objective.fit(config)
    assert len(history) == 2
    cyclic = objective.build({**config, **result.cyclic("triangular2")}).schedule.scheduler
    assert cyclic.max_lrs == pytest.approx([result.max_lr]) and cyclic.base_lrs == pytest.approx([result.min_lr])
    png = result.plot(tmp_path / "range.png")
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="rule must be one of"):
        objective.lr_range_test({}, rule="fastest")


def test_the_momentum_range_test_tries_each_momentum_from_the_same_start():
    model, optimizer = _model_and_optimizer()
    before = _states(model, optimizer)
    result = rt.momentum_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, lr=0.05, steps=5)
    assert result.momentums == pytest.approx(list(np.linspace(0.9, 0.99, 10)))
    assert result.max_momentum == result.momentums[int(np.argmin(result.losses))]
    assert result.min_momentum <= result.max_momentum
    assert result.config() == {"cycle_momentum": True, "min_momentum": result.min_momentum,
                               "max_momentum": result.max_momentum}
    after = _states(model, optimizer)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0]) and before[2] == after[2]
    # the same momentum twice from the same start gives the same loss: each run starts afresh
    twice = rt.momentum_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, lr=0.05, steps=5,
                                   momentums=[0.95, 0.95])
    assert twice.losses[0] == twice.losses[1]
    adam = torch.optim.Adam(model.parameters())
    on_adam = rt.momentum_range_test(model, adam, nn.functional.cross_entropy, BATCHES, lr=0.01, steps=2,
                                     momentums=[0.85, 0.95])
    assert adam.param_groups[0]["betas"] == (0.9, 0.999) and len(on_adam.losses) == 2
    with pytest.raises(ValueError, match="neither momentum nor betas"):
        rt.momentum_range_test(model, torch.optim.Adagrad(model.parameters()), nn.functional.cross_entropy,
                               BATCHES, lr=0.01, steps=1)
    assert isinstance(rung.loguniform(1e-3, 1e-1), type(rt.RangeTestResult([], [], [], [], "valley", 1.0, 0.1, 0.1,
                                                                          False, "exp").lr_domain()))


def test_the_proposal_curve_has_no_lag():
    ramp = [float(i) for i in range(200)]
    centered = centered_average(ramp, 0.5)
    assert centered[100] == pytest.approx(100.0, abs=1e-9)  # a causal average trails by 1 step here
    assert centered_average([3.0] * 10, 0.98) == pytest.approx([3.0] * 10)
    step = [1.0] * 50 + [0.0] * 50
    smooth = centered_average(step, 0.8)
    assert smooth[49] == pytest.approx(1 - smooth[50], abs=0.02)  # symmetric about the step


def test_a_test_of_whole_epochs_takes_that_many_passes_and_names_a_bad_epochs():
    model, optimizer = _model_and_optimizer()
    result = rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, start_lr=1e-4, end_lr=1.0,
                              epochs=3, diverge_factor=1e9)
    assert len(result.lrs) == 3 * len(BATCHES)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="epochs must be a positive whole number"):
            rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, BATCHES, epochs=bad)
    with pytest.raises(ValueError, match="needs a train_loader with a length"):
        rt.lr_range_test(model, optimizer, nn.functional.cross_entropy, iter(BATCHES), epochs=1)
