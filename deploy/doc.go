// Package deploy holds the deployment files (Marathon app, container image, compose file,
// Prometheus rules, Grafana dashboard, examples) and the tests that check them: the files
// parse, every environment variable is one the binary reads and the values validate, the
// rules pass Prometheus' rule parser, every metric name they use is one the binary exports,
// the Marathon upgrade strategy can make progress with one replica per host, and the
// Dockerfile's build command gives a static binary. The tests need no Docker. README.md is
// the operator's guide and the alerts' runbook.
package deploy
