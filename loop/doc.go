// Package loop is the controller: the pure decision step that holds a metric at a target by
// asking for warmer and cooler units, the metric and target sources it reads, and the runner
// that ticks it. It imports nothing else of this module.
package loop
