package zktest

import (
	"os"
	"strings"
	"testing"
)

func TestServerStopsAndStartsOnTheSamePort(t *testing.T) {
	s := Start(t)
	if out, err := FourLetter(s.Addr(), "ruok"); err != nil || !strings.Contains(out, "imok") {
		t.Fatalf("ruok: %q %v", out, err)
	}
	addr := s.Addr()
	s.Stop()
	if _, err := FourLetter(addr, "ruok"); err == nil {
		t.Fatal("server still answers after Stop")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr || s.Pid() == 0 {
		t.Fatalf("restarted on %s pid %d, want %s", s.Addr(), s.Pid(), addr)
	}
	// The server's own log is kept (a chaos run's report points at it): both starts are in it.
	b, err := os.ReadFile(s.LogFile())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "binding to port"); n != 2 {
		t.Fatalf("the server's log names its port binding %d times, want 2 (one per start):\n%s", n, b)
	}
}
