// Package framework is the Mesos side: a v1 HTTP scheduler that turns the controller's demand
// into tasks and keeps the task ledger, built on mesos-go v0.0.11.
package framework
