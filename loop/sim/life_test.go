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

// Consumers of a queue whose first batch ended while producers were adding items: the ends were
// taken for kills by the producers (as a tasks plant's coolers kill running tasks), the newest
// consumers were taken out of the history, and every later end was matched to a start too old:
// their life was learned as 45 ticks for 36, the consumers still running were predicted to
// drain the queue for longer than they did, and the queue sat 30 items above its target for 60
// ticks (wider seed 882). Producers had acted for 24 ticks while consumers ran and none ended:
// such coolers do not kill, and the ends are natural.
func TestConsumersEndingWhileProducersActAreNotTakenForKilled(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":-136},
		"plant":{"type":"queue","initial":156,"arrival_per_tick":15.8,"items_per_run":0.8,
			"run_lifetime_ticks":36,"lag_ticks":1,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true,"lookback":30}}`)
	rows, c, err := runProjectController(s)
	if err != nil {
		t.Fatal(err)
	}
	mean, worst := offTarget(rows[80:])
	life := c.State().Kinds[loop.Warmer].Life
	t.Logf("after tick 80: mean error %.2f, worst %.1f; consumers' life learned %.2f (true 36)", mean, worst, life)
	if math.Abs(life-36) > 0.5 {
		t.Errorf("consumers' life learned as %.2f ticks, want 36", life)
	}
	if mean > 2 {
		t.Errorf("mean error after tick 80 %.2f items, want at most 2 (the queue held at its target)", mean)
	}
}

// Consumers that act 13 ticks after their launch, for one tick, a tenth of an item each, against
// an arrival of 7.2 items a tick: 72 must be launched every tick. With the queue on its target,
// the producers' prediction one tick ahead (their lag before any is seen) found it on target but
// for a rounding of 7e-6, and that made the producers the kind to act, for no units: the
// consumers were not launched for 12 ticks at a time, and the queue rose 86 items above its
// target every 25 ticks (wider seed 810). A gap that small is no gap.
func TestARoundingGapDoesNotHoldBackDueUnits(t *testing.T) {
	s := mustParse(t, `{"ticks":300,"target":{"type":"constant","value":-172},
		"plant":{"type":"queue","initial":478,"arrival_per_tick":7.2,"items_per_run":0.1,
			"run_lifetime_ticks":1,"lag_ticks":13,"metric_sign":-1},
		"relay":{"warmer":true,"cooler":true,"lookback":300}}`)
	rows, _ := runMine(t, s)
	mean, worst := offTarget(rows[80:])
	idle, longest := 0, 0
	for _, r := range rows[80:] {
		if r.Requested == 0 {
			idle++
			longest = max(longest, idle)
		} else {
			idle = 0
		}
	}
	t.Logf("after tick 80: mean error %.2f, worst %.1f, longest run of ticks with nothing launched %d", mean, worst, longest)
	if mean > 1 || worst > 10 {
		t.Errorf("after tick 80 the queue was %.1f items off its target on average and %.1f at worst, want at most 1 and 10", mean, worst)
	}
}

// offTarget returns the mean and the largest |PV - SP| over rows.
func offTarget(rows []Row) (mean, worst float64) {
	var sum float64
	for _, r := range rows {
		e := math.Abs(r.PV - r.SP)
		sum += e
		worst = math.Max(worst, e)
	}
	return sum / float64(len(rows)), worst
}
