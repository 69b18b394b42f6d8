package loop

import "testing"

// How a finished probe that pushed the metric away from the target while the error grew is
// judged. Only a drift that itself carries the metric away from the target can make a helpful
// unit look like that (an arrival rising under the probe), so only then is the next probe
// doubled; with the drift carrying the metric toward the target, the units did it, and the
// kind's answer is settled. (A chaos run's queue below its target got 1, 2, 4, 8, 16
// consumers in turn, draining it ever further below the target.)
func TestProbeAwayWhileErrorGrew(t *testing.T) {
	tests := []struct {
		name      string
		sp        float64 // target
		startPV   float64 // metric when the probe was launched
		base      float64 // drift per tick before the probe
		endPV     float64 // metric when its units have ended
		last      float64 // the departure a tick before (Probe.Last)
		jump      float64 // its largest change in a tick until then (Probe.Jump)
		wantDoubt int32
	}{
		// Queue 13 below its target 20, filling by 1 a tick; 2 consumers drained it to 3.
		{"drift toward the target: settled", 20, 13, 1, 3, -10, -3, 0},
		// Queue 40 above its target 20, arrivals rising by 1 a tick; it rose to 52, 7 more
		// than the drift alone would have taken it, a little more each tick: the units may have
		// helped against a growing arrival; the next probe is twice as large.
		{"drift away from the target: doubled", 20, 40, 1, 52, 5, 2, 4},
		// The same 7, all in the last tick: units starting (producers adding their items),
		// not a drift that grew; the answer is settled.
		{"drift away, the departure in one jump: settled", 20, 40, 1, 52, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			s.Tick = 10
			s.Noise = 0.1
			s.Probe = Probe{Active: true, Kind: Warmer, Units: 2, Tick: 5, PV: tc.startPV, Base: tc.base, Alone: true,
				Dev: tc.last, Last: tc.last, Jump: tc.jump}
			f := [2]flows{} // the probe's units have all ended
			trackProbe(&cfg, &s, &f, tc.endPV, tc.sp)
			if s.Probe.Active {
				t.Fatal("probe still active after its units ended")
			}
			if got := s.Kinds[Warmer].Doubt; got != tc.wantDoubt {
				t.Errorf("next probe %d units (Doubt), want %d", got, tc.wantDoubt)
			}
		})
	}
}

// A doubt is about the need it arose under. A probe left in doubt whether consumers drain a
// queue above its target (DoubtDir down) must not become a twice-as-large probe once the
// queue is below its target and the consumers could only push it further away; the same doubt
// with the queue above the target again does bring the larger probe.
func TestDoubtOnlyProbesForItsOwnNeed(t *testing.T) {
	tests := []struct {
		name  string
		pv    float64
		units int
	}{
		{"queue below the target: no probe", 8, 0},
		{"queue above the target: the doubled probe", 32, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			// Arrivals raise the metric by 1 a tick; what a consumer (the warmer) does is in
			// doubt (its last probe told nothing), so no kind is believed to help either way.
			s.Theta = [nParams]float64{1, 0, 0, 0, 0, -1, 1}
			s.Kinds[Warmer].Seen = 20
			s.Kinds[Warmer].Lag, s.Kinds[Warmer].Life = 2, 6
			s.Kinds[Warmer].Doubt, s.Kinds[Warmer].DoubtDir = 4, -1
			s.Idle = int32(cfg.ProbeAfter)
			s.Tick = 100
			var f [2]flows
			stuck := false
			d := decide(&cfg, &s, &f, tc.pv, 20, false, false, &stuck)
			if d.Warmers != tc.units {
				t.Errorf("metric %.0f, target 20: %d warmers, want %d", tc.pv, d.Warmers, tc.units)
			}
		})
	}
}

// A clear answer settles the probed kind (it is not probed again as a kind never seen working)
// only when the probe acted alone. With the other kind's units in flight, the departure may be
// theirs: consumers emptying a queue while one cooler's half item went unseen made a clear
// "answer", the cooler was settled as lowering the metric, and with both kinds believed to make
// the gap worse nothing acted for 400 ticks (a generated scenario, seed 11597, with a shorter
// model memory tried this stop).
func TestOnlyAProbeActingAloneSettlesItsKind(t *testing.T) {
	tests := []struct {
		name     string
		alone    bool // the warmers had nothing in flight at the launch
		warmers  int32
		wantSeen bool
	}{
		{"alone: settled", true, 0, true},
		{"consumers running at the launch: not settled", false, 20, false},
		{"consumers started during the probe: not settled", true, 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			s.Tick = 20
			// A cooler probe launched at tick 14 with the queue's metric at 32 and no drift; the
			// metric is now 0, far past anything noise could explain.
			s.Probe = Probe{Active: true, Kind: Cooler, Units: 1, Tick: 14, PV: 32, Alone: tc.alone}
			f := [2]flows{}
			f[Warmer].running = tc.warmers
			trackProbe(&cfg, &s, &f, 0, 103)
			if s.Probe.Active {
				t.Fatal("probe still active after its units ended")
			}
			if got := s.Kinds[Cooler].Seen >= confirmUnits; got != tc.wantSeen {
				t.Errorf("cooler settled as seen working: %v, want %v", got, tc.wantSeen)
			}
		})
	}
}

// A probe that told nothing while the other kind had units in flight may have had its answer
// taken by them: it is repeated at the same size, and even at the bound it does not end the
// probing of its kind (a kind whose probing ended is only tried again after hundreds of idle
// ticks).
func TestAProbeBesideTheOtherKindIsRepeatedNotDoubled(t *testing.T) {
	tests := []struct {
		name         string
		alone        bool
		units        int32
		wantDoubt    int32
		wantReprobes int32
	}{
		{"alone: doubled", true, 2, 4, 0},
		{"beside consumers: repeated", false, 2, 2, 0},
		{"alone at the bound: probing ends", true, 80, 0, 1},
		{"beside consumers at the bound: repeated", false, 80, 80, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			s.Tick = 20
			// Coolers probed at an empty queue (the metric 0, the target 73 above it); the
			// metric did not move.
			s.Probe = Probe{Active: true, Kind: Cooler, Units: tc.units, Tick: 14, PV: 0, Alone: tc.alone}
			f := [2]flows{}
			trackProbe(&cfg, &s, &f, 0, 73)
			if s.Probe.Active {
				t.Fatal("probe still active after its units ended")
			}
			if got := s.Kinds[Cooler].Doubt; got != tc.wantDoubt {
				t.Errorf("next probe %d coolers (Doubt), want %d", got, tc.wantDoubt)
			}
			if got := s.Kinds[Cooler].Reprobes; got != tc.wantReprobes {
				t.Errorf("Reprobes %d, want %d", got, tc.wantReprobes)
			}
		})
	}
}

// A probe that pushed the metric away while the error grew, with a drift that itself carries
// the metric away, is doubled: a growing drift looks the same. But a growing drift does not
// follow the probe's size: a departure that doubled with the units is theirs, and settles it.
func TestADepartureThatGrowsWithTheProbeIsTheProbes(t *testing.T) {
	tests := []struct {
		name      string
		prevDev   float64 // departure per unit of the last doubled probe (0: none)
		endPV     float64
		wantDoubt int32
	}{
		// Producers named coolers on a queue metric (-items) filling by 20 a tick: 256
		// producers of 0.4 items moved it 102.4 further than the drift would have in 16 ticks
		// (320), clearly but within what a growing arrival could do.
		{"no earlier probe: doubled", 0, -1702.4, 512},
		{"the last probe departed 0.4 a unit too: settled", -0.4, -1702.4, 0},
		{"the last probe departed far less a unit: doubled", -0.1, -1702.4, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			s.Tick = 20
			s.Kinds[Cooler].ProbeDev = tc.prevDev
			// The departure grew a little each tick (-96 a tick before the last, by 12 at most).
			s.Probe = Probe{Active: true, Kind: Cooler, Units: 256, Tick: 4, PV: -1280, Base: -20, Alone: true,
				Dev: -96, Last: -96, Jump: -12}
			f := [2]flows{}
			trackProbe(&cfg, &s, &f, tc.endPV, -44)
			if got := s.Kinds[Cooler].Doubt; got != tc.wantDoubt {
				t.Errorf("next probe %d coolers (Doubt), want %d", got, tc.wantDoubt)
			}
		})
	}
}

// A probe is judged by the units the cluster granted. One asked for 8 units and granted 2 that
// told nothing is as large as the cluster allows: the probing of its kind ends (the re-probe
// for a deadlock tries it again later), where one granted in full is doubled. Doubled past
// the grant, cooler probes on a supply of one unit a tick asked for 1000 each for 800 ticks,
// and the other kind's re-probe never came.
func TestAProbeTheClusterGrantedInPartIsNotDoubled(t *testing.T) {
	tests := []struct {
		name      string
		granted   int32
		wantUnits int32 // the probe's units as judged
		wantDoubt int32 // the next probe's size (0: probing ended)
	}{
		{"granted in full: the next probe is twice as large", 8, 8, 16},
		{"granted 2 of 8: probing ends", 2, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			s := NewState()
			s.Noise = 0.1
			// Consumers probed on a queue 100 above its target 0 (the metric is its length),
			// steady: the metric has not moved.
			s.Tick = 11
			s.Probe = Probe{Active: true, Kind: Warmer, Units: 8, Tick: 10, PV: 100, Alone: true}
			f := [2]flows{Warmer: {granted: tc.granted, pending: tc.granted}}
			trackProbe(&cfg, &s, &f, 100, 0)
			if s.Probe.Units != tc.wantUnits {
				t.Fatalf("probe judged as %d units, want %d", s.Probe.Units, tc.wantUnits)
			}
			s.Tick = 20
			f = [2]flows{} // its units have all ended
			trackProbe(&cfg, &s, &f, 100, 0)
			if s.Probe.Active {
				t.Fatal("probe still active after its units ended")
			}
			if got := s.Kinds[Warmer].Doubt; got != tc.wantDoubt {
				t.Errorf("next probe %d units (Doubt), want %d", got, tc.wantDoubt)
			}
			if tc.wantDoubt == 0 && s.Kinds[Warmer].Seen < confirmUnits {
				t.Errorf("probing ended but the kind is not settled (Seen %v)", s.Kinds[Warmer].Seen)
			}
		})
	}
}
