package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteRandomScenarios regenerates testdata/scenarios/random/ when RELAY_SIM_WRITE_RANDOM=1.
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
		b := RandomScenario(uint64(i))
		if _, err := Parse(b); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("random_%02d.json", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
