package framework

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test leaves no goroutine behind: subscriptions, watchdogs, drivers, HTTP connections.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
