// Package metrics serves what operators look at: Prometheus metrics on a non-global registry,
// the health, readiness, leader and status endpoints, and the embedded live dashboard.
package metrics
