package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteRandomScenarios regenerates testdata/scenarios/random/ and testdata/heldout/ when RELAY_SIM_WRITE_RANDOM=1.
// The files are committed; the generator's seeds are fixed, so regenerating gives the same files.
func TestWriteRandomScenarios(t *testing.T) {
	if os.Getenv("RELAY_SIM_WRITE_RANDOM") != "1" {
		t.Skip("set RELAY_SIM_WRITE_RANDOM=1 to regenerate testdata/scenarios/random")
	}
	dir := filepath.Join("testdata", "scenarios", "random")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 30; i++ {
		writeRandom(t, dir, fmt.Sprintf("random_%02d.json", i), uint64(i))
	}
	// A held-out set, seeds 1001-1020, outside testdata/scenarios: a check of the controller on
	// plants it was not tuned on (`relay-mesos bench-control loop/sim/testdata/heldout`).
	held := filepath.Join("testdata", "heldout")
	if err := os.MkdirAll(held, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1001; i <= 1020; i++ {
		writeRandom(t, held, fmt.Sprintf("heldout_%d.json", i), uint64(i))
	}
}

func writeRandom(t *testing.T, dir, name string, seed uint64) {
	t.Helper()
	b := RandomScenario(seed)
	if _, err := Parse(b); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
