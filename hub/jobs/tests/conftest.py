from hub.jobs.tests.processes import hub_env  # noqa: F401 (a fixture)
