// Package deploy holds the deployment files (Marathon app, container image, compose file,
// Prometheus rules, Grafana dashboard, examples) and the tests that check them.
package deploy
