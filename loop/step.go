package loop

import (
	"math"
	"time"
)

// confirmUnits is how many units of a kind must have started before its learned effect is
// trusted over exploration (and before the first-move caution is lifted).
const confirmUnits = 3

// negligibleGap: a predicted gap to the target smaller than this (in the controller's units,
// see State.Scale) is no gap (see decide).
const negligibleGap = 1e-4

// spareTicks: ticks of coolers acting while warmers ran and none ended, after which the coolers
// are taken not to kill warmer tasks (see observe).
const spareTicks = 3

// targetCurveGain is how fast State.SPCurve follows the change of the target's change.
const targetCurveGain = 0.5

// divergingIdle is what a tick with a growing error and no action counts toward ProbeAfter.
const divergingIdle = 4

// reprobeIdle: ProbeAfter multiples of idle ticks (with a persisting error; a growing error
// counts divergingIdle per tick, so about 5 ProbeAfters of it) after which a kind
// believed not to help is probed again.
const reprobeIdle = 20

// blindReprobeIdle replaces reprobeIdle for a kind believed to work against its name whose
// units acted from the first tick the model learned from (KindState.Blind): the drift was never
// seen without them, so that belief may be the drift's own move split between the two. A
// growing error counts divergingIdle a tick, so at the default ProbeAfter the re-probe comes
// after 45 ticks of it rather than 100 (wider seed 3342: 6 consumers met a queue's arrival of
// 12 items a tick from the first tick, were learned to fill it, and were not tried again while
// it rose past 1000 items). Only such a kind: re-probing that soon every kind believed not to
// help lost 3 of the 1000 wider runs and added 1.2% to IAE; every kind against its name, 2
// (producers named coolers, truly raising the metric, tried again); every blind kind, 1 and
// one tuning run (a first cooler that truly lowers the metric, tried again below its target).
// It also applies to a kind whose learned effect has clearly turned round since it was last
// launched on it (KindState.ActedDir; see decide).
const blindReprobeIdle = 9

// noiseGain is how fast State.Noise follows the squared prediction error.
const noiseGain = 0.1

// tinyGain: a learned effect per unit under this many of the controller's units, on a metric
// that reads 10 or more of them, sizes no launch larger than the error's units or twice the
// unit-ticks the kind was seen moving the metric (see decide).
const tinyGain = 0.1

// unsureDevs: with a noise band set (Tolerance > 0), a kind's effect a unit is taken as at least
// this many of its standard errors when its units are counted (see decide).
const unsureDevs = 2

// clearMove: a finished probe whose departure from the drift's path reached this many of the
// controller's units (and twice Tolerance, and the noise and drift bounds in trackProbe) gave
// a clear answer. It is under one unit: on a still metric (the noise bound is what a noisy
// one is judged by), one cooler that added half an item to a queue with no arrivals was taken
// for no answer, and probes of 2, 4 and 8 coolers followed, each pushing the queue further from
// its target.
const clearMove = 0.4

// noiseSettled: from this tick on (five of the noise estimate's time constants), State.Noise is
// taken as the metric's own noise rather than the errors of the model's first guesses, and a
// move within twice its deviation of the model's expectation is no surprise. From tick 30
// instead, one more of 200 runs read with -1..1 of jitter flooded; from tick 0, three more.
const noiseSettled = 50

// careTicks: for this many ticks after a starved window (a request with nothing granted) the
// metric approaches the target without crossing it (see afterStarving).
const careTicks = 50

// coarseFirst: a unit whose effect on its first tick of acting is this many times the error or
// more is not launched for a persistent error until a re-probe would be (see decide).
const coarseFirst = 2.5

// careReach: for careTicks after a starved window the decision looks this many times
// Coincidence ahead (30 ticks at the default 20). Judged 20 ticks ahead there too, consumers
// that live longer were asked for enough to close the gap the window left by then, the ones
// still running carried the metric past the target, and 9 more of the wider runs of seeds
// 1-1000 missed their post-starvation bound.
const careReach = 1.5

// signMoved: the unit-ticks of Moved (see KindState) a kind found to move the metric against
// its name needs, besides a learned life, before a kind never launched is taken to be turned
// round too (mirrorPrior).
const signMoved = 10

// Step runs one controller tick: it reads s and in, updates s in place and returns the
// decision. It is pure (no clock but in.Now, no I/O), allocates nothing, and never returns a
// negative or non-finite number of units.
func Step(cfg *Config, s *State, in Input) Decision {
	switch {
	case s.Scale > 0:
	case cfg.MetricScale > 0:
		s.Scale = cfg.MetricScale
	case in.Metric.OK && in.Target.OK:
		s.Scale = metricScale(in.Metric.Value, in.Target.Value)
	}
	sc := s.scale()
	c := *cfg
	c.Tolerance /= sc
	in.Metric.Value /= sc
	in.Target.Value /= sc
	d := step(&c, s, in)
	d.Error *= sc
	d.Predicted *= sc
	d.Aimed *= sc
	return d
}

// scaleLo and scaleHi bound the readings the controller takes in the metric's own units;
// below countHi only whole readings (counts) are.
const scaleLo, countHi, scaleHi = 1, 3, 300

// metricScale chooses State.Scale from the first metric and target that are not both zero
// (package doc, "The metric's scale"): 1 when the larger magnitude m is in [scaleLo, scaleHi),
// the range the tunables were set for (task counts, queue lengths); else the power of ten that
// brings m into [30, 300): a metric read in thousands (requests a second) or in fractions (a
// CPU share, a queue's fill ratio) is controlled as the same plant in hundreds. 0 (not yet
// chosen) for m zero or not finite. A count of 1 or 2 is no fraction: taken from below 3, a
// task count of 0 for a target of 2 had 200 tasks started. A metric below countHi that is not
// a whole number is no count, and is scaled as one below 1: a queue of 134 items read in
// hundreds (-1.34 with its sign, for a target of -0.16) was controlled in hundreds of items,
// and its IAE was 7574 for a limit of 4648, where read in items it is 3534 (as now in
// hundreds). Of the 504 queue plants of seeds 5001-6000 read in hundredths, 396 met every
// target before this, 439 with it.
//
// Without it the rules that take one metric unit as the metric's scale (the prior's one unit
// a unit, the probe and persistent-error thresholds) misjudged such metrics: the 504 generated
// queue plants of seeds 5001-6000 read in hundreds or thousands of times their units met
// every target in 282 and 274 cases (443 in their units), read in hundredths and thousandths
// in 335 and 252; with the scale, 434, 434, 389 and 434.
func metricScale(pv, sp float64) float64 {
	m := math.Max(math.Abs(pv), math.Abs(sp))
	switch {
	case !finite(m) || m == 0:
		return 0
	case m < scaleLo, m < countHi && pv != math.Trunc(pv):
		return math.Pow(10, math.Floor(math.Log10(m/30)))
	case m >= scaleHi:
		return math.Pow(10, math.Floor(math.Log10(m/scaleHi))+1)
	}
	return 1
}

func step(cfg *Config, s *State, in Input) Decision {
	if s.TickNanos == 0 {
		s.TickNanos = int64(cfg.Delay)
	}
	s.Tick++
	t := s.Tick
	learn := advanceClock(cfg, s, in.Now)

	var f [2]flows
	f[Cooler] = observe(cfg, s, Cooler, t, in.Ledger.Cooler, flows{}, learn)
	f[Warmer] = observe(cfg, s, Warmer, t, in.Ledger.Warmer, f[Cooler], learn)

	pvOK := in.Metric.OK && finite(in.Metric.Value)
	pv := in.Metric.Value
	// A metric read with jitter scatters around a wall (an empty queue reads 137, 138, 139):
	// a reading within the operator's tolerance beyond a known wall, or twice it inside (the
	// extreme that set the wall may itself be the wall plus the jitter), is taken as at it,
	// and a new extreme within the tolerance of the last reading as the metric staying there
	// (see learnModel). Learned as measurements, such ticks taught that consumers at an empty
	// queue do nothing, and 1000 a tick were launched. With one tolerance inside the wall, 16
	// of the 300 generated runs of seeds 5001-5300 read with -1..1 of jitter still flooded
	// (32 with none), with twice it 13.
	near := cfg.Tolerance
	if near > 0 && pvOK && s.HasSeen {
		switch {
		case s.WallHi && pv >= s.Hi-2*near && pv <= s.Hi+near:
			pv = s.Hi
		case s.WallLo && pv <= s.Lo+2*near && pv >= s.Lo-near:
			pv = s.Lo
		}
	}
	// The model learns each tick's movement one tick late: only the next metric tells whether
	// a new extreme was a wall (the metric stays exactly there) or just a high point.
	if s.Held.OK {
		h := &s.Held
		top := h.AtHi || (h.NewHi && pvOK && math.Abs(pv-h.PV) <= near)
		bottom := h.AtLo || (h.NewLo && pvOK && math.Abs(pv-h.PV) <= near)
		if side := shortAtRecord(s, h, pv); side >= 0 && pvOK {
			keepPressed(s, side, h) // learned if the metric later goes past that extreme
		} else {
			learnModel(cfg, s, h, top, bottom)
		}
		h.OK = false
	}
	surprised := false
	maybeHi, maybeLo := false, false
	if learn && pvOK && s.PrevOK {
		h := &s.Held
		regressors(&h.X, &f)
		h.Y, h.PV, h.OK, h.Tick = pv-s.PrevPV, pv, true, t
		h.Probe, h.Base = s.Probe.Active, s.Probe.Base
		// The metric moved far from what the model expects with units acting: wait a tick to
		// learn from it rather than act on a model it has just contradicted. The recent
		// disturbance is part of what it expects: a changing arrival is no surprise. Nor is
		// the metric's own noise, once the noise estimate has had noiseSettled ticks to leave
		// the first guesses' errors behind: a queue whose arrivals are random (Poisson, 8 a
		// tick around a balance of units that moves it by about 0) moved more than the one
		// metric unit of the threshold on most ticks, and each such tick was skipped; the
		// error then grew and was answered by bursts of units that overshot.
		yhat := dot(&s.Theta, &h.X) + s.Drift
		acting := h.X[pWarmRun]+h.X[pWarmStart]+h.X[pCoolRun]+h.X[pCoolStart] > 0
		thr := math.Max(math.Abs(yhat), 1) + cfg.Tolerance
		if s.Tick >= noiseSettled {
			thr += 2 * math.Sqrt(s.Noise)
		}
		surprised = acting && math.Abs(h.Y-yhat) > thr
		h.NewHi, h.NewLo = pv > s.Hi, pv < s.Lo
		h.AtHi, h.AtLo = pv == s.Hi && s.Hi != s.Lo, pv == s.Lo && s.Hi != s.Lo
		// A new extreme reached clearly short of what the units pushing toward it were
		// expected to do (by a quarter, the test learnModel applies a tick later, once the
		// next metric tells) may be a wall: this tick's decision takes it for one (decide).
		// So may the last extreme, the metric staying exactly on it while units were expected
		// to push it further: 129 consumers, the first of a batch of 1000 started 27 ticks
		// after their launch, emptied a queue at once and were learned as a big effect; at the
		// next tick, the queue still empty, the 806 pending were predicted to drain it some
		// 500 items past empty, and 265 producers of 18.7 items each were launched against
		// that (the queue rose to 5014 items for a target of 5; wider seed 1401).
		if acting {
			y0 := yhat - s.Drift // the model's own expectation, as learnModel tests it
			short := 0.25 * math.Abs(y0)
			units := y0 - s.Theta[pDrift] // what the units were expected to do
			maybeHi = (h.NewHi || h.AtHi) && !s.WallHi && units > 0 && y0 > h.Y+short
			maybeLo = (h.NewLo || h.AtLo) && !s.WallLo && units < 0 && y0 < h.Y-short
		}
	}
	if pvOK {
		if !s.HasSeen {
			s.Hi, s.Lo, s.HasSeen = pv, pv, true
		}
		if pv > s.Hi {
			s.Hi, s.WallHi = pv, false
			learnPressed(cfg, s, 0)
		}
		if pv < s.Lo {
			s.Lo, s.WallLo = pv, false
			learnPressed(cfg, s, 1)
		}
	}
	prevPV, prevOK := s.PrevPV, s.PrevOK
	s.PrevPV, s.PrevOK = pv, pvOK

	starved := f[Warmer].granted < s.Kinds[Warmer].Asked || f[Cooler].granted < s.Kinds[Cooler].Asked
	if !pvOK || !in.Target.OK || !finite(in.Target.Value) {
		s.Kinds[Warmer].Asked, s.Kinds[Cooler].Asked = 0, 0
		s.SPOK, s.SPRun = false, 0 // the next target read starts the course afresh
		return Decision{Miss: true, Starved: starved}
	}
	sp := in.Target.Value
	followTarget(s, sp)
	// A request with nothing granted: the cluster has no resources for this framework (a
	// starved window). The first tick after one notes the gap it left.
	if s.Kinds[Warmer].Asked+s.Kinds[Cooler].Asked > 0 && f[Warmer].granted+f[Cooler].granted == 0 {
		s.StarvedAt, s.CarePending = t, true
	} else if s.CarePending {
		s.CareGap, s.CarePending = sp-pv, false
	}
	mirrorPrior(cfg, s)
	trackProbe(cfg, s, &f, pv, sp)
	var d Decision
	stuck := false
	if surprised {
		d = Decision{Error: sp - pv}
	} else {
		dc := cfg
		if s.StarvedAt > 0 && t-s.StarvedAt <= careTicks {
			c := *cfg
			c.Coincidence = int(math.Ceil(careReach * float64(cfg.Coincidence)))
			dc = &c
		}
		d = decide(dc, s, &f, pv, sp, maybeHi, maybeLo, &stuck)
	}
	d.Starved = starved
	s.Kinds[Warmer].Asked, s.Kinds[Cooler].Asked = int32(d.Warmers), int32(d.Coolers)
	switch {
	case d.Warmers+d.Coolers > 0:
		s.Idle = 0
	case s.Idle < math.MaxInt32-1:
		s.Idle++
		// An error that grows while nothing is believed to close it counts four times toward
		// a probe; so does one held at a wall (an empty queue below its target) while a kind
		// has never been tried: no drift lifts the metric off a wall, and waiting for one left
		// a queue, emptied by warmers that turned out to be consumers, at 0 for 20 ticks
		// before a cooler was tried.
		if stuck && prevOK && (math.Abs(sp-pv) > math.Abs(sp-prevPV)+cfg.Tolerance || pinnedAtWall(s, pv, sp) && untried(cfg, s)) {
			s.Idle = min(s.Idle+divergingIdle-1, math.MaxInt32-1)
		}
	}
	return d
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// advanceClock notes the time of this tick. After a gap of several tick lengths (a failover,
// a paused process) it moves the history forward so ages stay right, and reports that this
// tick's movements span more than one tick and must not be learned from.
func advanceClock(cfg *Config, s *State, now time.Time) bool {
	learn := true
	if !now.IsZero() {
		n := now.UnixNano()
		if s.LastNow != 0 && cfg.Delay > 0 {
			gap := float64(n-s.LastNow) / float64(cfg.Delay)
			if gap >= 1.5 {
				missed := int64(math.Min(math.Round(gap)-1, Ring))
				for i := int64(0); i < missed; i++ {
					for k := range s.Kinds {
						s.Kinds[k].Launched[ringAt(s.Tick)] = 0
						s.Kinds[k].Started[ringAt(s.Tick)] = 0
					}
					s.Tick++
				}
				learn = false
			}
		}
		s.LastNow = n
	}
	return learn
}

// observe derives one kind's flows from the ledger and learns its lag and life.
// cooler is the cooler's flows of this tick when k is Warmer.
func observe(cfg *Config, s *State, k Kind, t int64, c KindCounts, cooler flows, learn bool) flows {
	ks := &s.Kinds[k]
	var f flows
	f.pending, f.running = int32(max(c.Pending, 0)), int32(max(c.Running, 0))
	f.granted = max(ks.Asked-int32(max(c.Ungranted, 0)), 0)
	ks.Launched[ringAt(t-1)] = f.granted
	f.starts = max(ks.PrevPending+f.granted-f.pending, 0)
	f.ends = max(ks.PrevRunning+f.starts-f.running, 0)
	ks.Started[ringAt(t)] = f.starts
	if learn && f.starts > 0 {
		// FIFO: the f.pending youngest launches are still pending; the next f.starts started now.
		n, sum := agesPast(&ks.Launched, t, t-1, f.pending, f.starts)
		learnTiming(&ks.Lag, ks.Units, n, sum)
		ks.Units += float64(f.starts)
	}
	// Kills end the newest tasks, which breaks the FIFO reading of ends: learn life only on
	// ticks without cooler action, and count as natural ends only those the life explains; the
	// rest were kills, and their effect belongs to the cooler.
	killing := k == Warmer && (cfg.CoolerKills || cooler.running > 0 || cooler.starts > 0)
	// Coolers seen acting on spareTicks ticks while warmers ran, none of which ended, do not
	// kill them (producers adding items to a queue that consumers drain): the ends that come
	// while such coolers act are natural. Taken for kills, the first batch of consumers to end
	// while producers acted was taken out of the history, later ends were matched to starts too
	// old, and consumers of 36 ticks were learned to live 45: the queue sat 30 items above its
	// target for 60 ticks.
	if killing && learn && f.ends == 0 && ks.PrevRunning > 0 {
		ks.Spared = min(ks.Spared+1, spareTicks)
	}
	spared := !cfg.CoolerKills && ks.Spared >= spareTicks
	_, life := timing(ks)
	if killing && f.ends > 0 && !spared {
		natural := int32(0)
		if life < Ring {
			natural = ks.Started[ringAt(t-int64(life))]
		}
		f.kills = min(max(f.ends-natural, 0), max(cooler.running, cooler.starts))
		if cfg.CoolerKills {
			f.kills = f.ends - natural
		}
		f.kills = max(f.kills, 0)
		f.ends -= f.kills
		if learn {
			ks.Killed += float64(f.kills)
		}
		// The killed were the newest: take them out of the starts, so that the running
		// units are still the youngest starts there. Left in, every later end was matched to a
		// start too young, and the learned life of 79-tick tasks sank to 69.
		left := f.kills
		for age := int64(0); left > 0 && age < Ring; age++ {
			i := ringAt(t - age)
			c := min(ks.Started[i], left)
			ks.Started[i] -= c
			left -= c
		}
	}
	// Ends beyond what the coolers acting could have killed are natural; before any life is
	// known they are learned from too. Skipped, a batch of 36 consumers that ended as 5 coolers
	// added items to the queue taught nothing, and the life was first learned from later ends
	// matched to the wrong starts (13 ticks for 12, and more as further ends met coolers).
	if learn && f.ends > 0 && (!killing || life >= Ring) {
		n, sum := agesPast(&ks.Started, t, t, f.running, f.ends)
		learnTiming(&ks.Life, ks.Units, n, sum)
	}
	ks.PrevPending, ks.PrevRunning = f.pending, f.running
	return f
}

// learnModel updates the response model with one tick's movement y of the metric. A movement
// that ended against a wall (the metric at exactly its highest or lowest value, moving less
// than the model expects) is censored: it only tells the model that the true effect was at
// least that large, so it is used only when the model expected less, and the wall is noted.
// A movement during a probe is learned against the drift seen before the probe (held, not
// learned): a trial whose effect is smaller than the drift still shows its sign.
func learnModel(cfg *Config, s *State, h *Sample1, top, bottom bool) {
	x, y := &h.X, h.Y
	yhat := dot(&s.Theta, x)
	// Only units acting at that tick can press the metric against a wall: an expectation from
	// the drift or from ends alone (often a rounding-size number) is no evidence of one.
	// And it must have moved clearly less than expected (a quarter of the expected move), not
	// by a rounding of a model that was right.
	acting := x[pWarmRun]+x[pWarmStart]+x[pCoolRun]+x[pCoolStart] > 0
	short := 0.25 * math.Abs(yhat)
	if acting && top && yhat > y+short {
		s.WallHi = true
		keepPressed(s, 0, h)
		return
	}
	if acting && bottom && yhat < y-short {
		s.WallLo = true
		keepPressed(s, 1, h)
		return
	}
	// Units that ended in the tick they started (more started than were running at its end:
	// consumers that find a queue empty exit at once), in a movement that the model expected to
	// carry the metric past a known wall and that ended clearly further from the wall than
	// expected, say nothing against the model either: they met the wall, and whatever else
	// moved the metric (the arrivals) did the rest. Learned as a measurement, consumers that
	// found the README's example queue empty just before 4 items arrived were taught to do
	// little, then to fill the queue, and none was launched again while the queue grew past
	// 100 items (TestExampleQueue, 2 of 14 full suites; TestConsumersThatFindAnEmptyQueue...
	// models it). Kept as censored, and learned if the metric later goes past the wall. Not
	// during a probe: that is how a wrong belief about a kind is corrected.
	quick := x[pWarmStart] > x[pWarmRun] || x[pCoolStart] > x[pCoolRun]
	if from := h.PV - y; quick && !h.Probe {
		if s.WallLo && from+yhat < s.Lo && y > yhat+short {
			keepPressed(s, 1, h)
			return
		}
		if s.WallHi && from+yhat > s.Hi && y < yhat-short {
			keepPressed(s, 0, h)
			return
		}
	}
	// A movement toward a wall that ended against it, larger than the model expected, only says
	// the effect was at least that large: a queue drained to empty drained less than the units
	// could. Learned as a bound, not as a measurement.
	// Only a tick learned from counts as having seen the units act: a kind whose every tick was
	// censored at a wall (coolers adding items that running consumers took at once from an
	// empty queue) has not been seen working, and must still be probed.
	for k, u := range [2]float64{x[pWarmStart] + x[pWarmRun], x[pCoolStart] + x[pCoolRun]} {
		ks := &s.Kinds[k]
		if u > 0 && ks.Seen == 0 && !s.DriftSeen {
			ks.Blind = true
		}
		ks.Seen += u
	}
	if !acting && x[pWarmEnd]+x[pCoolEnd] == 0 {
		s.DriftSeen = true
	}
	if x[pWarmEnd] > 0 {
		s.Kinds[Warmer].EndPrior = false
	}
	if x[pCoolEnd] > 0 {
		s.Kinds[Cooler].EndPrior = false
	}
	// And a tick that the metric spent at a wall it is known to have (an empty queue staying
	// empty) while the model expected a move away from it is censored too: it only says that
	// whatever pushes into the wall was at least as strong as what pulls away. Learned as a
	// measurement, it taught that coolers did nothing: 20 of them added 40 items to an empty
	// queue that 42 consumers emptied again in the same tick, each cooler was learned to add
	// about 0.003 items, and 1000 a tick were launched later for a queue 11 items short.
	bound := acting && ((top && y > 0 && yhat < y) || (bottom && y < 0 && yhat > y) ||
		(top && s.WallHi && y == 0 && yhat < y) || (bottom && s.WallLo && y == 0 && yhat > y))
	// Evidence that a kind moves the metric at all: units of it acting while the metric left
	// the drift's path (consumers of an empty queue never give any) by max(twice the
	// Tolerance, the smaller of 1 and a hundredth of the range the metric has covered). A
	// metric that has never moved gives none. With a fixed 1, a metric that the units move by
	// a hundredth (a queue drained a hundredth of an item a tick per consumer) never showed the
	// kind moving it, and its bound (decide) held it to the error: the queue ran away. Twice
	// the tolerance, since a move is the difference of two readings each within the noise
	// band: with once, jitter of -1..1 at an empty queue counted as the consumers moving it.
	// With a noise band, the reading itself must also have moved by more than twice it: a move
	// of exactly 2 (jitter from -1 to 1) less a drift estimate of -0.2 left the path by 2.2,
	// and 188 consumers of an empty queue counted as moving it on such ticks (see decide).
	thr := math.Max(2*cfg.Tolerance, math.Min(1, 0.01*(s.Hi-s.Lo)))
	if s.Hi > s.Lo && math.Abs(y-s.Theta[pDrift]-s.Drift) >= thr && (cfg.Tolerance == 0 || math.Abs(y) > 2*cfg.Tolerance) {
		s.Kinds[Warmer].Moved += x[pWarmStart] + x[pWarmRun]
		s.Kinds[Cooler].Moved += x[pCoolStart] + x[pCoolRun]
	}
	// The noise is the metric's own unexplained motion: a probe's ticks measure the probe (a
	// first unit's effect is mispredicted by whatever the prior guessed), and counted as noise
	// they made its own clear answer look like noise (see trackProbe).
	if e := y - yhat - s.Drift; finite(e) && !h.Probe {
		s.Noise += noiseGain * (e*e - s.Noise)
	}
	lambda := 1 - 1/float64(memory(cfg, s.Tick))
	if h.Probe {
		xe := *x
		xe[pDrift] = 0
		rlsUpdate(s, &xe, y-h.Base, lambda, bound, true)
	} else {
		rlsUpdate(s, x, y, lambda, bound, false)
	}
	// The recent-disturbance estimate follows the residual by DriftGain; a residual further
	// from it than the metric's unexplained noise (its deviation, this tick's residual
	// included), where that noise is more than one unit and has settled (noiseSettled), moves
	// it by DriftGain divided by the noise: a metric that moves in bursts is not given a new
	// rate at every burst. Items arriving six at a time every 10 ticks (a queue's producers
	// putting items in once a second, read ten times a second; or a series refreshed less
	// often than it is read) moved the estimate by 1.6 items a tick at each burst,
	// extrapolated over the 24 ticks a consumer is judged by: the consumers allowed in flight
	// were launched after each burst that found none running and the queue was held empty,
	// 20 items below its target. A residual within the noise moves it by DriftGain as before:
	// damped on every tick, what the last steps of a coarse unit (11.4 items) left stayed while
	// the metric sat still, predicted its return to the target, and nothing was launched for
	// 50 ticks (two deadlocks in 4000 wider runs). Before noiseSettled the noise is the errors
	// of the model's first guesses: a first version that damped every residual from tick 0
	// hardly moved the estimate in the first ticks, and 6 more of 430 queues with random
	// arrivals saw a kind launched by the hundred in a tick (in one, consumers learned to fill
	// the queue, 537 to 1000 a tick from tick 24).
	resid := y - dot(&s.Theta, x)
	e := resid - s.Drift
	g := cfg.DriftGain
	if s.Tick >= noiseSettled && s.Noise > 1 && e*e > s.Noise {
		g /= s.Noise
	}
	s.Drift += g * e
}

// memory is the model's memory in ticks at tick t: 10 ticks at first, growing by one every 4
// ticks up to Lookback. Early on, what the model holds came from the prior and from its first,
// often censored ticks (a queue drained to empty by a first batch), and a wrong split between
// the drift and the units' effect held for the whole Lookback kept a queue swinging between 39
// and 69 items around its target of 60 (a consumer learned at 2.2 items a tick for 5, the
// arrival at 4.8 for 11).
func memory(cfg *Config, t int64) int {
	return min(cfg.Lookback, max(10, int(min(t, math.MaxInt32))/4))
}

// keepPressed keeps a movement censored against a wall (side 0 high, 1 low), dropping the
// oldest kept.
func keepPressed(s *State, side int, h *Sample1) {
	p := &s.Pressed[side]
	copy(p[:], p[1:])
	p[len(p)-1] = *h
}

// learnPressed learns, as measurements, the movements kept as censored against a wall that the
// metric has now gone past: it was no wall. Movements older than Lookback ticks are dropped, as
// the model's memory would have let them go.
func learnPressed(cfg *Config, s *State, side int) {
	p := &s.Pressed[side]
	for i := range p {
		h := p[i]
		p[i] = Sample1{}
		if h.OK && s.Tick-h.Tick <= int64(cfg.Lookback) {
			learnModel(cfg, s, &h, false, false)
		}
	}
}

// shortAtRecord reports the side (0 high, 1 low; -1 none) of a movement that set a new extreme
// with units acting, fell clearly short of what the model expected (by a quarter of it and by
// three times the metric's unexplained noise), and was followed at once by a move back (pv, the
// next metric): it may have been cut by a wall that the metric then left.
func shortAtRecord(s *State, h *Sample1, pv float64) int {
	x, y := &h.X, h.Y
	if x[pWarmRun]+x[pWarmStart]+x[pCoolRun]+x[pCoolStart] <= 0 {
		return -1
	}
	yhat := dot(&s.Theta, x)
	short := math.Max(0.25*math.Abs(yhat), 3*math.Sqrt(s.Noise))
	switch {
	case h.NewHi && y > 0 && yhat > y+short && pv < h.PV:
		return 0
	case h.NewLo && y < 0 && yhat < y-short && pv > h.PV:
		return 1
	}
	return -1
}

// response holds a kind's learned per-tick effects and timing for one decision.
type response struct {
	run, start, end float64
	lag, life       int
	horizon         int  // the coincidence point: ticks ahead at which a new unit is judged
	base            int  // the model's index of the kind's run effect (start and end follow it)
	noEnd           bool // the end effect is left out (still the prior's)
}

// gainDev is the standard error of gain(): the model's uncertainty about it (the noise
// estimate times the covariance of the run, start and end effects that gain sums).
func (r *response) gainDev(s *State) float64 {
	if s.Noise <= 0 {
		return 0
	}
	c := unitWeights(r.lag, r.life, r.horizon)
	if r.noEnd {
		c[2] = 0
	}
	var v float64
	for i := range c {
		for j := range c {
			v += c[i] * c[j] * s.Cov[(r.base+i)*nParams+r.base+j]
		}
	}
	return math.Sqrt(math.Max(v, 0) * s.Noise)
}

// gain is one new unit's effect on the metric at the coincidence point.
func (r *response) gain() float64 {
	return unitResponse(r.run, r.start, r.end, r.lag, r.life, r.horizon)
}

// first is one new unit's effect on the metric on the first tick it acts (its lag).
func (r *response) first() float64 {
	return unitResponse(r.run, r.start, r.end, r.lag, r.life, r.lag)
}

func kindResponse(cfg *Config, s *State, k Kind) response {
	ks := &s.Kinds[k]
	var r response
	r.lag, r.life = timing(ks)
	base := pWarmRun
	if k == Cooler {
		base = pCoolRun
	}
	r.run, r.start, r.end = s.Theta[base], s.Theta[base+1], s.Theta[base+2]
	r.base = base
	if ks.EndPrior {
		r.noEnd = true
		// The life is learned from the first ends at once, their effect only a tick later:
		// in that tick the prior's end effect (-1 a unit) had each of 236 consumers in flight
		// put an item back as it ended, and 916 were launched at once (the queue was emptied).
		r.end = 0
	}
	if k == Cooler && cfg.CoolerKills {
		// A kill stops one running warmer at once: minus a warmer's running and start effects.
		w := kindResponse(cfg, s, Warmer)
		r.lag, r.life = 1, w.life
		r.run, r.start, r.end = -w.run, -w.start, -w.end
		r.base, r.noEnd = w.base, w.noEnd
	}
	// A unit whose effect builds up while it runs (a consumer draining a queue) is judged by
	// what it has done at the end of its life (up to Coincidence ticks of it); a unit whose
	// effect is there as long as it runs (a server counted while up) by its first tick.
	// A unit whose effect comes when it ends (a short task that asks an API to scale something
	// by one) is judged just after its end, once the model is sure of that end effect (twice its
	// standard error): judged at its start it seemed to do nothing, and the controller asked for
	// MaxPerTick of them a tick.
	r.horizon = r.lag
	if life := min(r.life, cfg.Coincidence); math.Abs(r.run)*float64(life) > math.Abs(r.start) {
		r.horizon = r.lag + life - 1
	}
	if end := r.lag + r.life; r.life < Ring && end <= r.lag+cfg.Coincidence && end < Ring {
		full := unitResponse(r.run, r.start, r.end, r.lag, r.life, end)
		if at := r.gain(); math.Abs(at) < 0.5*math.Abs(full) && sure(s, base+2, r.end) {
			r.horizon = end
		}
	}
	r.horizon = min(r.horizon, Ring-1)
	return r
}

// sure reports whether the model's parameter i (value v) is at least twice its standard error
// from zero. Before any residual noise is known, the prior is taken at its word.
func sure(s *State, i int, v float64) bool {
	if s.Noise <= 0 {
		return true
	}
	return v*v > 4*s.Cov[i*nParams+i]*s.Noise
}

// decide predicts where the metric goes with what is already in flight and picks the units of
// the kind that closes the predicted gap at its coincidence point.
// stuck is set when a gap is predicted that no kind is believed to close.
func decide(cfg *Config, s *State, f *[2]flows, pv, sp float64, maybeHi, maybeLo bool, stuck *bool) Decision {
	d := Decision{Error: sp - pv}
	var resp [2]response
	horizon := 1
	for k := Warmer; k <= Cooler; k++ {
		resp[k] = kindResponse(cfg, s, k)
		horizon = max(horizon, resp[k].horizon)
	}
	var free [Ring]float64 // free[h]: predicted metric h ticks ahead with no new units
	predictFree(cfg, s, f, &resp, pv, sp, horizon, &free)
	// A kind is not launched against the run effect of the other kind's units in flight while
	// that kind's life is unknown (none of its units has ended yet): it is predicted for ever,
	// and for consumers that drain a queue it is an extrapolation the queue cannot follow (it
	// empties). 88 consumers of a queue of 70 items, each taking 1 item a tick and predicted to
	// take it for ever, drew 725 coolers in one tick, each to add an item 19 ticks later, when
	// the consumers had long ended. Judged without it, a kind acts on the metric's own move and
	// the other kind's start effects, and on the whole prediction once a first end is seen.
	var freeWithout [2][Ring]float64
	judge := [2]*[Ring]float64{&free, &free}
	for k := Warmer; k <= Cooler; k++ {
		j := Cooler - k
		if cfg.has(k) && s.Kinds[j].Life == 0 && resp[j].run != 0 && f[j].pending+f[j].running > 0 &&
			!cfg.CoolerKills && !coolersKill(cfg, s) {
			without := resp
			without[j].run = 0
			predictFree(cfg, s, f, &without, pv, sp, horizon, &freeWithout[k])
			judge[k] = &freeWithout[k]
		}
	}

	type choice struct {
		kind  Kind
		units float64
		gain  float64
		gap   float64
		aim   float64 // the target aimed at (targetAhead)
	}
	best := choice{kind: -1}
	band := cfg.Tolerance
	// An error is persistent, and worth a probe or a single unit, from one of the controller's
	// units, but never from more than one metric unit: a queue of 55 read with an offset of 974
	// is scaled by ten, and an error of 1 to 10 was left for ever (a deadlock by FORMAT.md;
	// read without the offset, the same plant was held to its target).
	one := math.Min(1, 1/s.scale())
	kinds, wrong := 0, 0 // kinds that exist; of those, kinds that face a gap they would widen
	for k := Warmer; k <= Cooler; k++ {
		if !cfg.has(k) {
			continue
		}
		kinds++
		r := &resp[k]
		g := r.gain()
		aim := targetAhead(s, sp, r.lag)
		gap := aim - clip(s, judge[k][r.horizon]+holdingLaunches(s, r), aim)
		// A kind that pulls the metric away from a new extreme that may be a wall (see Step)
		// is not launched against a prediction past it: consumers emptying a queue, their
		// drain predicted far past empty, drew 664 producers in the tick it emptied (the wall
		// was known a tick later; the queue rose to 3332 items for a target of 55). The kind
		// pushing toward it is judged as before: a first batch emptying a queue that the
		// arrivals refilled the next tick is no wall, and clipped there, too many consumers
		// were launched after a starved window.
		if maybeHi && g < 0 {
			gap = math.Max(gap, math.Min(sp-pv, 0))
		}
		if maybeLo && g > 0 {
			gap = math.Min(gap, math.Max(sp-pv, 0))
		}
		// A gap inside negligibleGap is the rounding of a prediction summed over many small
		// moves, not a need. Taken for one, it made the kind that the prediction one tick ahead
		// found on target (by 7e-6) the one to act, for 0 units, while units of the other kind
		// that act 13 ticks after their launch were due: 72 consumers of a tenth of an item
		// each, against an arrival of 7.2 items a tick, were not launched for 12 ticks at a
		// time, and the queue rose 86 items above its target every 25 ticks (wider seed 810).
		if math.Abs(gap) <= math.Max(band, negligibleGap) {
			continue
		}
		if g == 0 || math.Signbit(g) != math.Signbit(gap) || stillAfter(s, k, sp, pv) {
			wrong++
			continue
		}
		if idleAtWall(s, r, g, sp, judge[k]) {
			continue
		}
		// A kind not yet confirmed is sized as moving the metric by at least one metric unit a
		// unit (the prior's guess): its first units' start, run and end effects are not yet
		// told apart (a consumer that lives one tick starts, runs and ends in two ticks), and a
		// split that left a consumer's effect at a two-thousandth of an item had 1000 launched
		// in each of two ticks on a queue 16 items from its target.
		size := g
		if s.Kinds[k].Seen < confirmUnits && math.Abs(g) < 1 {
			size = math.Copysign(1, g)
		}
		if best.kind < 0 || math.Abs(g) > math.Abs(best.gain) {
			best = choice{kind: k, units: gap / size, gain: g, gap: gap, aim: aim}
		}
	}
	if best.kind >= 0 && futile(cfg, s, f, best.kind, best.gain, pv, sp) {
		best.kind, wrong = -1, kinds
	}
	*stuck = best.kind < 0 && wrong == kinds && math.Abs(sp-pv) > math.Max(one, band)
	if best.kind >= 0 {
		d.Predicted, d.Aimed = best.aim-best.gap, best.aim
		units := math.Floor(best.units + 0.5)
		care := s.StarvedAt > 0 && s.Tick-s.StarvedAt <= careTicks
		if care && afterStarving(s, &resp[best.kind], best.gap, best.gain, pv, sp) {
			units = math.Floor(best.units)
		}
		// A kind not yet confirmed is asked for Caution of the units, at least one, to move the
		// metric toward the target from where it is now. Against a predicted overshoot (the
		// gap on the far side of the target, made by units in flight) it is asked for no more
		// than the units without caution: rounded up from any fraction, a gap of 0.2 of a unit
		// asked for a whole one of each kind in turn, a warmer and then a cooler each tick for
		// ten ticks while neither had acted, and the ends of the one were taken for kills by
		// the other (a deadlock of 380 ticks followed).
		if s.Kinds[best.kind].Seen < confirmUnits && cfg.Caution < 1 {
			cautious := math.Ceil(best.units * cfg.Caution)
			if math.Signbit(sp-pv) != math.Signbit(best.gap) {
				cautious = math.Min(cautious, units)
			}
			units = cautious
		}
		// A kind learned to move the metric against its name (a warmer that lowers it) got
		// there through zero: its effect may be a small split of nothing (consumers of an
		// empty queue, the metric never moving, learned 0.2 a unit, then 0.01). It is not
		// launched in more units a tick than would close the error at one metric unit each
		// (the prior's guess, as for a probe) or twice the unit-ticks it has been seen acting
		// while the metric moved: 225 and then 1000 consumers were launched on that empty
		// queue in two ticks. The same holds for a kind seen acting while the metric has never
		// moved at all: a tiny effect learned with its name is the same split of nothing
		// (consumers of a queue that nothing fills, learned at a thousandth of an item: 1000 a
		// tick were launched, 198017 in 350 ticks). Once the metric has moved, a kind acting
		// with its name is not bounded unless its effect is tiny (below): the bound's one
		// metric unit a unit is a guess at the metric's scale, and on a metric whose units
		// move it by a hundredth (a ratio, a queue drained a hundredth of an item a tick per
		// consumer) it held the consumers to a fraction of what a filling queue needed.
		// The same bound holds a kind learned to move the metric by less than tinyGain of the
		// controller's units a unit, on a metric that has read 10 of them or more: noise read
		// at an empty queue can teach such an effect. Warmers, consumers learned to lower the
		// metric and then, from jitter at the empty queue, to raise it by 0.06 a unit, were
		// launched 953 and then 1000 a tick (at most 29 a tick without the jitter). A kind that
		// has been seen moving the metric often may still have that small an effect (consumers
		// of a hundredth of an item on a queue of 20: 50 a tick hold it against its arrivals).
		// Below 10 (a fraction read from 3 to 10 is left unscaled, see metricScale) a unit's
		// effect is often that small.
		ks := &s.Kinds[best.kind]
		against := (best.kind == Warmer) != (best.gain > 0)
		unmoved := ks.Seen >= confirmUnits && s.Hi == s.Lo
		tiny := math.Abs(best.gain) < tinyGain && math.Max(math.Abs(s.Hi), math.Abs(s.Lo)) >= 10
		if against || unmoved || tiny {
			units = math.Min(units, math.Max(math.Ceil(math.Abs(sp-pv)), 2*ks.Moved))
		}
		// With a noise band set (the operator says the metric is noisy), an effect within
		// unsureDevs standard errors of nothing is not taken at its word: the units are counted
		// as if each moved the metric by that much, at least one. Jitter at an empty queue
		// taught consumers to raise the metric by 0.16 a unit (over tinyGain: the bound above
		// did not hold them), and 373 were launched in a tick, later 1000 a tick. Without a
		// noise band the model's residuals are mostly its own misfit while it learns; counted
		// so there too, 895 of random seeds 5001-6000 met every target instead of 925.
		if cfg.Tolerance > 0 {
			if d := unsureDevs * resp[best.kind].gainDev(s); d > math.Abs(best.gain) {
				units = math.Min(units, math.Ceil(math.Abs(best.gap)/d))
			}
		}
		// A persistent small error: act rather than wait for ever; but only with a unit that
		// moves the metric toward the target from where it is now. A gap predicted on the far
		// side of the target (a queue below its target that its arrivals will carry past it)
		// is no reason to push the metric further from the target today.
		// After a starved window, a unit that would carry the metric past the target by more
		// than a tenth of the error waits twice as long.
		// A unit whose first tick of acting alone would carry the metric past the target by more
		// than the error brings it no closer at any tick. Such a unit (coarse: that tick's effect
		// at least coarseFirst times the error, with no known wall at the target to stop it) waits
		// reprobeIdle ProbeAfters, as a re-probe does, in case its effect was learned too large. A
		// consumer that took 25 items a tick for 23 ticks, launched for a queue 6.5 items above its
		// target after a starved window, took the queue 18 below it and drew 23 producers to undo
		// that (the reference launched nothing); a producer of 21.5 items launched for a queue 4
		// below its target left it 17.5 above. It is the test by which FORMAT.md's deadlock is
		// judged here (loop/sim's CanHelp: one unit granted now that would move the metric toward
		// the target on its first tick), with a margin: the first tick's share of a unit's effect
		// is learned less surely than the whole (a consumer of 7.3 items a tick was learned at
		// 8.25, and at twice the error a queue 3.7 items above its target was left there for 133
		// ticks, a deadlock by that test). Judged over the unit's whole life instead (tried once),
		// queues without arrivals were left 9 items above their target for ever where one coarse
		// consumer was the only move.
		wait := int32(cfg.ProbeAfter)
		if care && math.Abs(best.gain) > 1.1*math.Abs(sp-pv) {
			wait *= 2
		}
		if units < 1 && coarse(s, &resp[best.kind], pv, sp) {
			wait = reprobeIdle * int32(cfg.ProbeAfter)
		}
		if units < 1 && s.Idle >= wait && math.Abs(sp-pv) > math.Max(one, band) &&
			math.Signbit(sp-pv) == math.Signbit(best.gap) {
			units = 1
		}
		setUnits(cfg, &d, best.kind, units, f)
		if d.Warmers+d.Coolers > 0 {
			ks.ActedDir = dirOf(best.gain)
		}
		return d
	}
	// Nothing is believed to move the metric the right way. A kind learned to work against its
	// name while the same units of it have acted on every tick the model learned from (Blind:
	// the drift never seen without them) may have been given the drift's own move: the model
	// cannot tell a drift from units that never changed in number. While they still run and
	// the error persists (ProbeAfter, a growing error counting divergingIdle a tick), as many
	// again are launched, once, at most one per metric unit of error: the change in their
	// number tells the two apart. 23 consumers started at once on a queue that its arrivals
	// outran were learned to fill it, and nothing was launched for 30 ticks while the queue
	// grew by 3.5 items a tick; doubled five ticks after the first learned tick (tick 8), they
	// were learned right at tick 10 and the queue reached its target at tick 13 (IAE 4883
	// over the run, 9437 before).
	if doubleBlind(cfg, s, f, &resp, &d, pv, sp, one, band) {
		return d
	}
	// If the error persists, probe a kind
	// not yet seen working, or whose last probe was lost in the metric's own motion: its sign
	// may be the opposite of its name. A probe that told nothing is followed by one twice as
	// large.
	// And never a deadlock: a belief is only as good as the episodes it came from (a probe met
	// by a fault, a starved window, a drift that changed under it). While the error persists
	// for reprobeIdle times ProbeAfter ticks with nothing done, a kind believed not to help is
	// probed again (one unit, then doubling as above): bounded cost, and a wrong belief is
	// corrected by fresh evidence instead of lasting for ever (it is checkpointed).
	if !s.Probe.Active && s.Idle >= int32(cfg.ProbeAfter) && math.Abs(sp-pv) > math.Max(one, band) {
		for k := Warmer; k <= Cooler; k++ {
			ks := &s.Kinds[k]
			// A kind learned to work against its name from units that acted from the first
			// tick the model learned from was never seen apart from the drift: it is re-probed
			// sooner.
			ri := int64(reprobeIdle)
			if ks.Blind && againstName(k, &resp[k]) {
				ri = blindReprobeIdle
			}
			// So is a kind whose learned effect turned round, clearly (tinyGain a unit or more),
			// since the controller last launched it on that effect (ActedDir): the units that
			// taught the turn may have met a wall or a lump of arrivals (consumers that started
			// on an empty queue just before items landed). In 2 of 11000 runs of the README's
			// example queue as emptyQueue models it, such a turn left the queue above 15 items
			// for 151 and 160 ticks; 62 and 72 with this. Any turn, however small, also counted
			// the effect learned as nothing (2e-7) by consumers of a queue that nothing fills,
			// and 113 of them were re-probed within TestWrongSignCostsLittle's 400 ticks.
			g := resp[k].gain()
			if ks.ActedDir != 0 && dirOf(g) == -ks.ActedDir && math.Abs(g) >= tinyGain {
				ri = blindReprobeIdle
			}
			reprobe := int64(s.Idle) >= ri*int64(cfg.ProbeAfter)<<min(ks.Reprobes, 8)
			if !cfg.has(k) || f[k].pending+f[k].running != 0 || (ks.Seen >= confirmUnits && ks.Doubt == 0 && !reprobe) {
				continue
			}
			// A doubt is about helping with the need it arose under: a probe that left in doubt
			// whether consumers drain a queue above its target is no reason to start twice as
			// many on a queue below it (2, 4, 8 consumers drained it to empty in a chaos run).
			if ks.Seen >= confirmUnits && ks.Doubt > 0 && ks.DoubtDir != 0 && ks.DoubtDir != dirOf(sp-pv) && !reprobe {
				continue
			}
			setUnits(cfg, &d, k, float64(max(ks.Doubt, 1)), f)
			if n := d.Warmers + d.Coolers; n > 0 {
				if reprobe {
					ks.Blind = false
					ks.Recheck = true
					ks.ActedDir = 0
				}
				o := f[Cooler-k]
				s.Probe = Probe{Active: true, Kind: k, Units: int32(n), Tick: s.Tick, PV: pv, Base: s.Theta[pDrift] + s.Drift,
					Alone: o.pending+o.running == 0, Idle: s.Idle}
				return d
			}
		}
	}
	return d
}

// coarse reports whether one new unit of r's kind would, on its first tick of acting, carry the
// metric past sp by (coarseFirst-1) times the error or more. A known wall that sp is not past
// stops it there: a consumer that takes 5 items at once is not too coarse for a queue of 2
// whose target is the empty queue, once the queue has been seen pressed empty.
func coarse(s *State, r *response, pv, sp float64) bool {
	g := r.first()
	past := (clip(s, pv+g, sp) - sp) * math.Copysign(1, g)
	return past >= (coarseFirst-1)*math.Abs(sp-pv)
}

// doubleBlind is the launch that tells a Blind kind's units from the drift (see decide): as
// many units again as are running, when the kind is believed to work against its name, its
// name says it would close the error, it has nothing pending, and the error has persisted for
// ProbeAfter. Once launched it clears Blind, so it happens once, and the sooner re-probe no
// longer applies; one the bounds left at nothing (MaxInFlight reached) leaves Blind as it was.
func doubleBlind(cfg *Config, s *State, f *[2]flows, resp *[2]response, d *Decision, pv, sp, one, band float64) bool {
	if s.Probe.Active || s.Idle < int32(cfg.ProbeAfter) || math.Abs(sp-pv) <= math.Max(one, band) {
		return false
	}
	for k := Warmer; k <= Cooler; k++ {
		ks := &s.Kinds[k]
		if !cfg.has(k) || !ks.Blind || !againstName(k, &resp[k]) || f[k].running == 0 || f[k].pending != 0 || (k == Warmer) != (sp > pv) {
			continue
		}
		setUnits(cfg, d, k, math.Min(float64(f[k].running), math.Ceil(math.Abs(sp-pv))), f)
		if d.Warmers+d.Coolers > 0 {
			ks.Blind = false
			return true
		}
	}
	return false
}

// followTarget takes this tick's target into the target's recent course (State.SPStep,
// SPRun, SPFrom, SPCurve).
func followTarget(s *State, sp float64) {
	if s.SPOK {
		d, p := sp-s.PrevSP, s.SPStep
		if d != 0 && p != 0 && math.Signbit(d) == math.Signbit(p) && math.Abs(d) <= 2*math.Abs(p) && math.Abs(p) <= 2*math.Abs(d) {
			if s.SPRun == 0 {
				s.SPFrom = s.PrevSP - p
			}
			s.SPCurve += targetCurveGain * (d - p - s.SPCurve)
			s.SPRun = min(s.SPRun+1, Ring)
		} else {
			s.SPCurve, s.SPRun = 0, 0
		}
		s.SPStep = d
	}
	s.PrevSP, s.SPOK = sp, true
}

// targetAhead is where the target sp is expected lag ticks from now, when a unit launched now
// starts to act, by its recent course: its last change, and how that change has been changing
// (a schedule's sine bends toward its peak: aimed along the straight line, tasks started 9
// ticks before a peak overshot it by 3). It looks no further ahead than the ticks the target
// has moved smoothly, and leads it by no more than it has moved in them, so a target read with
// noise is led by at most the noise's range (4 for noise of -2..2, 0.12 on average), and one
// that steps is aimed at where it is. A course that is slowing (its change shrinking: a sine
// past its midline, on its way to a trough) is looked ahead only half the ticks it has moved
// smoothly: it will turn, and its bend, learned smoothed, says so late. Looked ahead as far as
// it had run, tasks killed with a lag of 29 were aimed 16 below the trough of a sine of period
// 63, and with no warmer to undo the kills the count fell to 12 for a target of 29 to 75
// (wider seed 52).
func targetAhead(s *State, sp float64, lag int) float64 {
	run := s.SPRun
	if s.SPCurve*s.SPStep < 0 {
		run /= 2
	}
	l := float64(min(int32(lag), run))
	lead := s.SPStep*l + s.SPCurve*l*(l+1)/2
	m := math.Abs(sp - s.SPFrom)
	return sp + math.Max(-m, math.Min(lead, m))
}

// afterStarving reports whether, within careTicks of a starved window, a move of gap (a unit
// of it moving the metric by gain) goes toward the target from the side the window left the
// metric on, and must be rounded down rather than to the nearest unit: once resources return,
// the metric approaches without crossing the target. Rounded to the nearest, the last unit
// carried it past by up to half a unit's effect, often many times the tenth of the error left
// that a user can accept (consumers that take 110 items each drained a queue that the
// window left 19 items above its target to 15 below it). Where the kind works against a
// steady drift (more units are launched every tick to hold it), rounding down would keep the
// metric half a unit short for as long as the care lasts, while a unit too many is taken back
// by launching one fewer later: there it rounds down only while the metric is still more than
// one unit's effect from the target.
func afterStarving(s *State, r *response, gap, gain, pv, sp float64) bool {
	dir := s.CareGap
	if s.CarePending {
		dir = sp - pv // still starved, or the first tick after it
	}
	if dir == 0 || math.Signbit(gap) != math.Signbit(dir) {
		return false
	}
	return holdingLaunches(s, r) == 0 || math.Abs(sp-pv) > math.Abs(gain)
}

// idleAtWall reports whether a unit launched now would start its life against a wall it
// pushes toward, with the target on the other side (consumers started on a queue that is
// predicted to be still empty when they start): it would drain nothing for a part of its life
// while its end is counted on. Such a unit is launched later, once the metric is predicted off
// the wall when it starts, and then works its whole life. Without this, a queue emptied below its
// target by 32 consumers got 1 to 6 more a tick (the arrivals were predicted to lift it above
// the target by the time those consumers would end).
func idleAtWall(s *State, r *response, g, sp float64, free *[Ring]float64) bool {
	at := min(max(r.lag, 1), Ring-1)
	return (s.WallLo && g < 0 && sp > s.Lo && free[at] <= s.Lo) || (s.WallHi && g > 0 && sp < s.Hi && free[at] >= s.Hi)
}

// futile watches the kind chosen to move the metric off a wall (an empty queue) toward the
// target: if units of it run for a whole lag and life while the metric stays pinned at the
// wall, they do not do what the model says. That model is dropped: the kind's effects are
// forgotten (zero, held loosely) and it is probed afresh, as a kind never seen working. Without
// this, a model that had come to credit the kind with a tiny effect the right way, and that
// learned nothing more at the wall (every tick there is censored), asked for ever more units.
// Only a kind whose learned effect (gain, a unit's at its coincidence point) points off the
// wall is watched: a kind chosen for the other way is holding the metric there (tasks started
// to replace those ending, with the metric at its highest value ever, taken for a wall, and
// the target just under it), and dropping its model had 1000 tasks launched in one tick.
// Nor does a tick count that the model explains (the metric moved as predicted, within twice
// its noise) while this kind acts alone: its units are doing what the model says, holding the
// metric against a drift that would carry it further, and the extreme was no wall (a queue's
// highest reading, taken for one when its consumers, at the cluster's most, began to drain
// exactly what arrived). Dropped there, the consumers were stopped for 7 ticks at a time and
// the queue grew by 42 items each time, to 1158 for a target of 50. With the other kind in
// flight the tick counts as before: producers launched at an empty queue whose items running
// consumers took at once were still added, 15 a tick, until the consumers ended and the queue
// rose to 174 items for a target of 30; counted, they were stopped after a lag and life.
func futile(cfg *Config, s *State, f *[2]flows, k Kind, gain, pv, sp float64) bool {
	ks := &s.Kinds[k]
	pinned := pinnedAtWall(s, pv, sp) && gain != 0 && math.Signbit(gain) == math.Signbit(sp-pv)
	if !pinned || f[k].running == 0 {
		ks.Futile = 0
		return false
	}
	if o := f[Cooler-k]; o.pending+o.running == 0 && explained(s) {
		return false
	}
	ks.Futile++
	lag, life := timing(ks)
	if ks.Futile <= int32(min(lag+life, Ring/2)) {
		return false
	}
	base := pWarmRun
	if k == Cooler {
		base = pCoolRun
	}
	if k == Cooler && cfg.CoolerKills {
		base = pWarmRun // a kill's effect is the warmers' own, negated
	}
	for i := base; i < base+3; i++ {
		s.Theta[i] = 0
		for j := 0; j < nParams; j++ {
			s.Cov[i*nParams+j], s.Cov[j*nParams+i] = 0, 0
		}
		s.Cov[i*nParams+i] = priorVariance
	}
	ks.Futile, ks.Doubt, ks.Reprobes, ks.Recheck = 0, 1, 0, false
	return true
}

// explained reports whether the metric's last movement (the held sample) was what the model
// predicts for it, within twice the metric's unexplained noise.
func explained(s *State) bool {
	h := &s.Held
	return h.OK && math.Abs(h.Y-(dot(&s.Theta, &h.X)+s.Drift)) <= 2*math.Sqrt(s.Noise)
}

// trackProbe follows a probe under way: how far the metric has departed from where the drift
// seen before the probe would have taken it. The probe ends when its units have all ended (or
// were never granted), when the controller launches more of that kind, or after Ring/2 ticks.
// A probe whose departure stayed small next to the drift it was judged against told nothing:
// the next probe of that kind is twice as large, up to the units that would close the error
// at one metric unit each (the prior's guess of a unit's effect) and the bounds. A probe of
// that size that still told nothing, acting alone, ends the probing of that kind: the cost of
// a kind that cannot help is bounded.
func trackProbe(cfg *Config, s *State, f *[2]flows, pv, sp float64) {
	p := &s.Probe
	if !p.Active {
		return
	}
	n := s.Tick - p.Tick
	if o := f[Cooler-p.Kind]; o.pending+o.running > 0 {
		p.Alone = false
	}
	dev := pv - p.PV - p.Base*float64(n)
	if math.Abs(dev) > math.Abs(p.Dev) {
		p.Dev, p.At = dev, int32(n)
	}
	if jump := dev - p.Last; math.Abs(jump) > math.Abs(p.Jump) {
		p.Jump = jump
	}
	p.Last = dev
	k := f[p.Kind]
	// A probe is judged by the units the cluster granted (counted the tick after the ask), not
	// by those asked for; one the cluster granted in part is as large as the cluster allows.
	if n == 1 && k.granted > 0 && k.granted < p.Units {
		p.Units, p.Capped = k.granted, true
	}
	relaunched := n > 1 && k.granted > 0
	if k.pending+k.running > 0 && !relaunched && n < Ring/2 {
		return
	}
	p.Active = false
	ks := &s.Kinds[p.Kind]
	if n == 1 && k.granted == 0 {
		// Never granted: nothing learned; the same probe again, once the wait that led to it
		// is given back: a re-probe asked inside a starved window otherwise waited another 100
		// ticks (a queue whose random arrivals had taught that consumers did not drain it grew
		// by 7 items a tick meanwhile, to 1500 items for a target of 28).
		s.Idle = min(s.Idle+p.Idle, math.MaxInt32-1)
		return
	}
	if relaunched {
		ks.Doubt, ks.Reprobes, ks.Recheck = 0, 0, false // the controller acts on what it learned
		return
	}
	n0 := float64(max(p.At, 1))
	clear := max(2*cfg.Tolerance, clearMove, 0.25*math.Abs(p.Base)*n0, 3*math.Sqrt(s.Noise*n0))
	limit := int32(min(math.Max(1, math.Ceil(math.Abs(sp-pv))), float64(cfg.MaxPerTick), float64(cfg.MaxInFlight)))
	// A probe that seemed to push the metric away from the target while the error grew may
	// only have met a drift that was itself growing (an arrival in its rising phase): it does
	// not settle the kind's sign while it was smaller than the bound; the next one is larger.
	// That confound needs a drift that itself carries the metric away from the target: when the
	// drift carried it toward the target (a queue below its target, filling) and the error grew
	// anyway, the probe's units did it, and the answer is settled (doubling there drained the
	// queue ever further below its target: 1, 2, 4, 8, 16 consumers).
	away := math.Signbit(p.Dev) != math.Signbit(sp-p.PV)
	grew := math.Abs(sp-pv) > math.Abs(sp-p.PV)+math.Max(1, cfg.Tolerance)
	// And a drift large enough to be that confound: over the probe's ticks it moves the metric
	// at least a quarter as far as the probe seemed to (a drift of 0.01 a tick, the model's
	// rounding on a queue with no arrivals, doubled cooler probes to 1000 units while each one
	// pushed the metric 5 units a cooler further from its target).
	driftAway := p.Base != 0 && math.Signbit(p.Base) != math.Signbit(sp-p.PV) && math.Abs(p.Base)*n0 >= 0.25*math.Abs(p.Dev)
	// A clear answer settles the kind: it has been seen working (either way), and is not
	// probed again until the re-probe for a deadlock is due. A cooler that clearly pushed a
	// queue 10 items away from its target was otherwise probed again with two units, as a kind
	// never seen working, and the queue was left 30 items away for good. Only a probe that
	// acted alone settles it: with the other kind's units in flight the departure may be
	// theirs (consumers emptying a queue while a cooler probe's half item went unseen; the
	// cooler, settled as lowering the metric, was not probed again and nothing acted for 400
	// ticks).
	// But a drift does not follow the probe's size, units do: a departure that doubled with
	// the probe (per unit within 0.6-1.6 of the last doubled probe's, the same way) is the
	// units' answer, however small next to the drift, once it stands out of the noise and the
	// probe has 8 units or more. From 4, a queue whose arrival rose under probes of 2 and 4
	// consumers was taken as raised by them (15 of 1920 runs of the live demo's plant at
	// every phase, lag 1-4 and jitter 0-3 were not drained by tick 150, against 4).
	// Producers at a queue that its arrivals filled faster than anything drained were doubled
	// to 1000 a probe, each probe clearly adding its items, again after every re-probe (9502
	// producers for nothing in one run, the queue driven further from its target).
	// A departure made in one jump (half of it or more in a single tick, the same way, out of
	// the noise) is units starting or ending, not a drift that grew: that departs a little more
	// each tick. Producers of 24 items each, at a queue above its target filled by a steady 6.3
	// items a tick, each made a clear step of 24 items, and were still doubled 1, 2, 4, 8 in
	// each of three re-probing rounds (45 units: the queue 1080 items further from its target).
	stepped := math.Signbit(p.Jump) == math.Signbit(p.Dev) && math.Abs(p.Jump) >= 0.5*math.Abs(p.Dev) &&
		math.Abs(p.Jump) >= max(clearMove, 3*math.Sqrt(s.Noise), 2*cfg.Tolerance)
	confound := away && grew && driftAway && !stepped && p.Units < limit
	if p.Units >= 8 && ks.ProbeDev != 0 && math.Signbit(ks.ProbeDev) == math.Signbit(p.Dev) &&
		math.Abs(p.Dev) >= max(2*cfg.Tolerance, clearMove, 3*math.Sqrt(s.Noise*n0)) {
		if r := p.Dev / float64(p.Units) / ks.ProbeDev; r > 0.6 && r < 1.6 {
			confound, clear = false, math.Min(clear, math.Abs(p.Dev))
		}
	}
	if math.Abs(p.Dev) >= clear && !confound {
		ks.ProbeDev = 0
		ks.Doubt = 0
		// A re-probing round whose answer is clear, and is that the kind pushes the metric
		// away from the target, confirms the belief it was sent to check: like a round that
		// told nothing, it doubles the wait before the next one. Waited for at the same
		// interval for ever, such rounds cost 15 units every 150 ticks on a queue whose only
		// kind filled it further (and one round every 386 ticks of a test plant, 17 in 6000).
		if ks.Recheck && away && p.Alone {
			ks.Reprobes = min(ks.Reprobes+1, 30)
		}
		ks.Recheck = false
		if p.Alone {
			ks.Seen = math.Max(ks.Seen, confirmUnits)
		}
		return
	}
	// A re-probe that told nothing, acting alone while the metric stayed pressed against a wall
	// that the kind's learned effect pushes into, confirms the belief it was sent to check:
	// against that belief, its units could only have shown themselves by taking the metric off
	// the wall. Like a round that told nothing at full size, it doubles the wait before the next
	// round, not the probe: doubled, consumers of a queue they had emptied, whose target only
	// producers could reach, were re-probed 1, 2, 4, ..., 64 and then 119 at a time, 246 for
	// nothing.
	if p.Alone && ks.Recheck && pinnedAtWall(s, pv, sp) {
		if r := kindResponse(cfg, s, p.Kind); intoWall(s, r.gain(), pv) {
			ks.Doubt = 0
			ks.Seen = math.Max(ks.Seen, confirmUnits)
			ks.Reprobes = min(ks.Reprobes+1, 30)
			ks.Recheck = false
			return
		}
	}
	// A probe that told nothing while the other kind's units were in flight may have had its
	// answer taken by them (coolers' items eaten as they came by consumers running at an
	// empty queue): it is repeated at its size, not doubled, and does not end the probing.
	// Doubled there, cooler probes at an empty queue reached 32 while 55 consumers ran, their
	// items came out together when the consumers ended (the queue 30 past its target), and
	// the coolers, settled as doing nothing, were not tried again for 400 ticks.
	if !p.Alone {
		ks.Doubt = max(p.Units, 1)
		ks.DoubtDir = dirOf(sp - p.PV)
		return
	}
	// A probe as large as the bounds allow, or as the cluster granted, that told nothing ends
	// the probing of its kind until the re-probe for a deadlock is due. Doubled past what the
	// cluster grants, cooler probes on a supply of one unit a tick asked for 1000 each (and
	// got one) for 800 ticks, and the wait that re-probes the other kind never came: warmers,
	// taken to lower the metric by a first unit that met the queue's arrival, were not tried
	// again while the queue rose by 24 items a tick.
	if p.Units >= limit || p.Capped {
		ks.Doubt = 0
		ks.Seen = math.Max(ks.Seen, confirmUnits)
		ks.Reprobes = min(ks.Reprobes+1, 30)
		ks.Recheck = false
		return
	}
	ks.Doubt = min(2*p.Units, limit)
	ks.DoubtDir = dirOf(sp - p.PV)
	ks.ProbeDev = p.Dev / float64(max(p.Units, 1))
}

// againstName reports whether a kind's learned effect per unit moves the metric against its
// name: warmers that lower it, coolers that raise it.
func againstName(k Kind, r *response) bool {
	g := r.gain()
	return g != 0 && (k == Warmer) == (g < 0)
}

// dirOf is the way a gap asks the metric to move: +1 up, -1 down, 0 none.
func dirOf(gap float64) int8 {
	switch {
	case gap > 0:
		return 1
	case gap < 0:
		return -1
	}
	return 0
}

// holdingLaunches is what the launches of the coming ticks will have done by a kind's
// coincidence point if they only hold a steady drift that this kind works against: a unit
// per tick at the rate -drift/(run·life), each launched one tick later than the last. The free
// prediction carries the whole drift to the coincidence point; without this, units launched
// now would be asked to cover drift that later launches cover, and a steady offset would
// remain wherever a unit's life is longer than a tick.
func holdingLaunches(s *State, r *response) float64 {
	drift := s.Theta[pDrift] + s.Drift
	if r.horizon <= r.lag || r.run == 0 || drift == 0 || math.Signbit(drift) == math.Signbit(r.run) {
		return 0
	}
	rate := -drift / (r.run * float64(r.life))
	var sum float64
	for j := 1; j <= r.horizon-r.lag; j++ {
		sum += unitResponse(r.run, r.start, r.end, r.lag, r.life, r.horizon-j)
	}
	return rate * sum
}

// clip bounds a predicted metric by the walls it has been seen pressed against (see walls).
func clip(s *State, v, sp float64) float64 {
	lo, hi := walls(s, sp)
	return math.Min(math.Max(v, lo), hi)
}

// walls returns the walls that clip a prediction (-Inf, +Inf for none): those seen, except
// one with the target beyond it. That one is no wall (a tasks count flat at its highest value
// for a few ticks looks like one), or the target cannot be reached; either way, clipped there,
// units in flight toward the target were not counted and more were launched every tick (16 a
// tick for 15 ticks, a lag, toward a target 16 tasks above that "wall": 288 tasks for 64).
func walls(s *State, sp float64) (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if s.WallLo && sp >= s.Lo {
		lo = s.Lo
	}
	if s.WallHi && sp <= s.Hi {
		hi = s.Hi
	}
	return lo, hi
}

// setUnits applies the per-tick and in-flight bounds.
func setUnits(cfg *Config, d *Decision, k Kind, units float64, f *[2]flows) {
	room := float64(cfg.MaxInFlight) - float64(f[k].pending+f[k].running)
	if k == Cooler && cfg.CoolerKills {
		room = math.Min(room, float64(f[Warmer].running-f[Cooler].pending))
	}
	units = math.Min(math.Min(units, float64(cfg.MaxPerTick)), room)
	if !(units >= 1) {
		return
	}
	if k == Warmer {
		d.Warmers = int(units)
	} else {
		d.Coolers = int(units)
	}
}

// predictFree fills free[1..horizon] with the metric predicted from what is in flight: pending
// units start after their kind's lag (counted from their launch), running units end after its
// life (counted from their start), and the learned drift goes on. Coolers seen killing warmer
// tasks take, when they act, the running warmer that would end last: its own end will not come.
func predictFree(cfg *Config, s *State, f *[2]flows, resp *[2]response, pv, sp float64, horizon int, free *[Ring]float64) {
	var delta [Ring]float64
	drift := s.Theta[pDrift] + s.Drift
	for j := 1; j <= horizon; j++ {
		delta[j] = drift
	}
	t := s.Tick
	var starts, ends [2][Ring]float64
	// A unit of a kind whose life is unknown (none has ended yet) would be predicted to act for
	// ever. Once it runs, its run effect is predicted for another Coincidence ticks (what a
	// new unit is judged by, see kindResponse), or as long again as it has run if that is
	// longer: predicted for ever, one consumer draining 9 items a tick was believed to bring
	// a queue of 600 to its target on its own, and nothing more was launched until it ended 34
	// ticks later, having drained 313 (a deadlock by FORMAT.md). Units still pending are
	// predicted for ever: cut short before any has been seen acting, they drew floods of
	// consumers on queues read with jitter. stops[k][j] counts the units that stop acting at j
	// before their predicted end (and are taken back at that end).
	var stops [2][Ring]float64
	var killed [Ring]float64 // warmers removed by kills, whose ends were taken out of ends
	for k := Warmer; k <= Cooler; k++ {
		ks := &s.Kinds[k]
		r := &resp[k]
		if k == Cooler && cfg.CoolerKills {
			continue // kills in flight act on the warmers' counts; nothing of their own
		}
		// Pending units, youngest first, by launch tick.
		left := f[k].pending
		for tl := t - 1; left > 0 && tl > t-Ring; tl-- {
			c := min(ks.Launched[ringAt(tl)], left)
			if c <= 0 {
				continue
			}
			left -= c
			js := max(r.lag-int(t-tl), 1)
			addAt(&starts[k], js, float64(c))
			addAt(&ends[k], js+r.life, float64(c))
		}
		if left > 0 { // launched before the history we keep: expect them to start now
			addAt(&starts[k], 1, float64(left))
			addAt(&ends[k], 1+r.life, float64(left))
		}
		// Running units, youngest first, by start tick.
		left = f[k].running
		for ts := t; left > 0 && ts > t-Ring; ts-- {
			c := min(ks.Started[ringAt(ts)], left)
			if c <= 0 {
				continue
			}
			left -= c
			end := max(r.life-int(t-ts), 1)
			addAt(&ends[k], end, float64(c))
			stopEarly(&stops[k], r.life, max(int(t-ts), cfg.Coincidence), end, float64(c))
		}
		if left > 0 { // age unknown: assume half a life left
			addAt(&ends[k], max(r.life/2, 1), float64(left))
			stopEarly(&stops[k], r.life, cfg.Coincidence, max(r.life/2, 1), float64(left))
		}
	}
	if coolersKill(cfg, s) && resp[Warmer].life < Ring {
		takeKilled(&starts[Cooler], &ends[Warmer], &killed, resp[Warmer].life, horizon)
	}
	for k := Warmer; k <= Cooler; k++ {
		r := &resp[k]
		running, stopped := float64(f[k].running), 0.0
		for j := 1; j <= horizon; j++ {
			running += starts[k][j] - ends[k][j]
			if k == Warmer {
				running -= killed[j]
			}
			stopped += stops[k][j]
			delta[j] += r.run*(running-stopped) + r.start*starts[k][j] + r.end*ends[k][j]
		}
	}
	// A wall the metric has been seen pressed against (an empty queue) clips the prediction,
	// so an excess in flight is not taken for a reserve that will carry on (see walls).
	lo, hi := walls(s, sp)
	free[0] = pv
	for j := 1; j <= horizon; j++ {
		free[j] = math.Min(math.Max(free[j-1]+delta[j], lo), hi)
	}
}

// coolersKill reports whether the coolers have been seen killing warmer tasks (most cooler
// units that acted ended a warmer before its time), as opposed to acting on the metric alone.
func coolersKill(cfg *Config, s *State) bool {
	if cfg.CoolerKills {
		return false // handled as the warmers' negative (kindResponse)
	}
	k := s.Kinds[Warmer].Killed
	return k >= confirmUnits && k >= 0.5*s.Kinds[Cooler].Units
}

// takeKilled applies predicted kills: each cooler acting at tick j (kills[j]) removes the
// running warmer with the latest end in (j, j+life]; that end is taken out of ends and the
// unit is counted in killed[j] instead, since the kill's own effect is the cooler's.
func takeKilled(kills, ends, killed *[Ring]float64, life, horizon int) {
	for j := 1; j <= horizon; j++ {
		n := kills[j]
		for e := min(j+life, Ring-1); n > 0 && e > j; e-- {
			c := math.Min(n, ends[e])
			if c <= 0 {
				continue
			}
			ends[e] -= c
			killed[j] += c
			n -= c
		}
	}
}

// stopEarly counts n units of a kind of the given life as stopping to act at tick stop and
// taken back at their predicted end, if the life is unknown (Ring) and stop comes first.
func stopEarly(stops *[Ring]float64, life, stop, end int, n float64) {
	if life < Ring || stop >= end {
		return
	}
	addAt(stops, stop, n)
	addAt(stops, end, -n)
}

func addAt(a *[Ring]float64, j int, v float64) {
	if j >= 1 && j < Ring {
		a[j] += v
	}
}

// stillAfter reports whether units of kind k have acted for twice the unit-ticks that would
// close the error at one unit of the controller's own each while the metric has never moved
// at all: any effect would have moved it, so the kind does nothing here (consumers of an
// empty queue) and is not believed to help, whatever split of nothing it learned; the other
// kind is probed (decide). On a fill ratio read as 0 for a target of 0.6 (60 in the
// controller's units), consumers learned at +0.0001 a unit were launched 60 a tick for the
// whole run (13388 units; the producers that fill the queue were never tried).
func stillAfter(s *State, k Kind, sp, pv float64) bool {
	return s.HasSeen && s.Hi == s.Lo && s.Kinds[k].Seen >= 2*math.Max(1, math.Ceil(math.Abs(sp-pv)))
}

// pinnedAtWall reports whether the metric sits at a known wall with the target beyond it (an
// empty queue below its target): no drift will lift it off, so waiting for one is time lost.
func pinnedAtWall(s *State, pv, sp float64) bool {
	return (s.WallLo && pv <= s.Lo && sp > pv) || (s.WallHi && pv >= s.Hi && sp < pv)
}

// intoWall reports whether an effect g pushes the metric, now at pv, further into a wall it is
// pressed against.
func intoWall(s *State, g, pv float64) bool {
	return (s.WallLo && pv <= s.Lo && g < 0) || (s.WallHi && pv >= s.Hi && g > 0)
}

// mirrorPrior sets the prior of a kind never launched from the other kind's learned effect: a
// unit of it is taken to move the metric, once started, by as much as a unit of the other kind
// does at its coincidence point (at least one metric unit, the prior's own guess), the other
// way (a step, as the prior: a start effect and the opposite end effect). It does so while the
// other kind is confirmed (confirmUnits unit-ticks learned from) and was not Blind; when that
// kind moves the metric against its name (a queue read negated turns both kinds round), only
// once it has clearly moved the metric (signMoved unit-ticks of Moved) and its units have been
// seen to end (its life learned) is the never-launched kind taken to be turned round too: 55
// consumers of 39 ticks that had just emptied a queue went on eating what the 13 producers lent
// their size put in (IAE 6021, 5686 with the life awaited). Otherwise, and once the kind has
// units in flight or has ever started one, the prior is left as it is. Coolers that kill warmer
// tasks have the warmers' effect already. A consumer that emptied a queue past its target,
// learned to drain 95 items, left producers at one item each: 60 were launched before the first
// of them could act (a lag of 8 ticks), and the queue rose to 649 items for a target of 57;
// sized at the consumers' effect, 2 were. Producers named coolers that filled a queue past its
// target left the consumers, named warmers, believed to fill it too: a probe of one came first,
// a batch only at tick 25, and the queue rose to 586 items for a target of 35; taken to drain
// it, they came in batches from tick 11 and it rose to 405.
func mirrorPrior(cfg *Config, s *State) {
	if cfg.CoolerKills || coolersKill(cfg, s) {
		return
	}
	for k := Warmer; k <= Cooler; k++ {
		o := Cooler - k
		ko, kk := &s.Kinds[o], &s.Kinds[k]
		if !cfg.has(o) || ko.Units > 0 || ko.Seen > 0 || ko.PrevPending+ko.PrevRunning > 0 || kk.Seen < confirmUnits || kk.Blind {
			continue
		}
		r := kindResponse(cfg, s, k)
		g := r.gain()
		if g == 0 || (g > 0) != (k == Warmer) && (kk.Moved < signMoved || kk.Life == 0) {
			continue
		}
		m := -math.Copysign(math.Max(math.Abs(g), 1), g) // the other kind's sign, turned round
		base := pWarmRun
		if o == Cooler {
			base = pCoolRun
		}
		s.Theta[base], s.Theta[base+1], s.Theta[base+2] = 0, m, -m
	}
}

// untried reports whether a kind the controller may launch has never been seen acting.
func untried(cfg *Config, s *State) bool {
	for k := Warmer; k <= Cooler; k++ {
		if cfg.has(k) && s.Kinds[k].Seen == 0 {
			return true
		}
	}
	return false
}
