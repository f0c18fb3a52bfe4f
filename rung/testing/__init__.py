"""Conformance suites that any implementation of a rung contract can run (like Optuna's
``optuna.testing`` or scikit-learn's ``check_estimator``); one module per contract, each with
a ``check_<thing>(factory, ...)`` function and a list of ``(name, check)`` pairs for pytest."""
