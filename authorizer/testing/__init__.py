"""Policy test suites: YAML files of cases (a request, the decision expected), run by `authorizer test`."""
