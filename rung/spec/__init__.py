"""Experiment specs: a whole tuning run described in one YAML file.

>>> from rung.spec import load_spec
>>> spec = load_spec("experiment.yaml")        # checked now: SpecError names field and line
>>> result = spec.build_tuner(max_trials=10).run()

The file's fields: ``name``, ``trial`` (``function: module:function``, or ``command: [...]``
with ``args: flags|json``), ``space``, ``metric``, ``mode``, ``searcher``, ``scheduler``,
``seed``, ``budget`` (``max_trials``, ``max_wallclock``, ``max_concurrent``,
``metric_threshold``, ``max_failures``, ``trial_timeout``), ``storage``, ``backend`` and
``warm_start``. The ``rung`` command line (``rung run SPEC.yaml``) is built on this.
"""

from ._errors import SpecError
from ._spec import ExperimentSpec, load_spec, parse_spec

__all__ = ["ExperimentSpec", "SpecError", "load_spec", "parse_spec"]
