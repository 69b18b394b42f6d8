// Package examples holds the use cases of the original Relay.Mesos as runnable
// configurations (one directory each: an env file of RELAY_* variables, the warmer and
// cooler scripts, a README) and the end-to-end tests that run each of them against the
// embedded Mesos master with real processes and check the outcome. See README.md.
package examples
