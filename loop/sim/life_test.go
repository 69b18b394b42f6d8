package sim

import (
	"math"
	"strconv"
	"testing"

	"github.com/relay-mesos/relay-mesos/loop"
)

// Tasks that live longer than the 128 ticks of history the controller used to keep: it learned
// their life as 128, launched each batch's replacements early (the old batch still running),
// and the task count overshot by a whole batch at each turnover (wider seed 888: tasks of 144
// ticks, 35 over a target of 83 for 16 ticks). With the histories as long as loop.Ring, each
// batch is replaced as it ends.
func TestTasksOfAGenerationLongerThan128TicksAreReplacedOnTime(t *testing.T) {
	if loop.Ring < 200 {
		t.Fatalf("loop.Ring %d: the test's tasks of 170 ticks need a longer history", loop.Ring)
	}
	for _, lag := range []int{5, 20} {
		s := mustParse(t, `{"ticks":800,"target":{"type":"constant","value":40},
			"plant":{"type":"tasks","initial":0,"task_duration_ticks":170,"lag_ticks":`+strconv.Itoa(lag)+`},
			"relay":{"warmer":true,"cooler":true,"lookback":100}}`)
		rows, f := runMine(t, s)
		worst := 0.0
		// The first generation's end cannot be foreseen (no life learned yet); from then on
		// (tick 250) every turnover can.
		for _, r := range rows[250:] {
			worst = math.Max(worst, math.Abs(r.PV-r.SP))
		}
		t.Logf("lag %d: IAE %.0f, cost %d, worst error after tick 250 %.0f", lag, f.IAE, f.Cost, worst)
		if worst > 4 {
			t.Errorf("lag %d: the task count was %.0f off its target of 40 after tick 250, want at most 4 (each batch replaced as it ends)", lag, worst)
		}
	}
}
