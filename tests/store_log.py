"""Reading a stored experiment's log in the resume tests: its reports, and each trial's
decisions and final outcome (tests/test_storage.py and the chaos suite's SIGKILL tests)."""

from rung.storage import SQLStorage


def reports_in_store(url, name):
    store = SQLStorage(url)
    try:
        experiment = store.get_experiment(name)
        if experiment is None:
            return []
        return store.read_log(experiment.id).reports
    finally:
        store.dispose()


def decisions(url, name):
    """The decision for each (trial, epoch), and each trial's final status and reason.

    The first action per (trial, epoch) is the scheduler's decision; an epoch redone after a
    crash (reported, then killed before the checkpoint was saved) is reported again and may
    get another answer (e.g. CONTINUE below the trial's next rung), which is not a decision.
    """
    store = SQLStorage(url)
    try:
        log = store.read_log(store.require_experiment(name).id)
    finally:
        store.dispose()
    actions: dict[tuple[int, int], str] = {}
    for r in log.reports:
        actions.setdefault((r.trial_id, r.metrics["epoch"]), r.action)
    outcomes = {t.trial_id: (t.status, t.end_reason) for t in log.trials}
    return actions, outcomes
