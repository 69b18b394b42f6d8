package zktest

import (
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
}
