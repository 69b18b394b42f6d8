// Package loop is the controller: the pure decision step that holds a metric at a target by
// asking for warmer and cooler units, the metric and target sources it reads, and the runner
// that ticks it. It imports nothing else of this module.
//
// # The controller, in plain words
//
// Every tick the controller is given the metric (PV), the target (SP), the time, and the task
// ledger: per kind (warmer, cooler) how many units are pending (launched, not yet running), how
// many are running, and how many of last tick's request were not granted. It returns how many
// units of each kind to launch now. Step is pure: the same state and input give the same
// decision; it allocates nothing and keeps a fixed-size state (a few KiB as JSON).
//
//  1. It reads the ledger as flows. From two consecutive ledgers and what it asked for, it
//     derives how many units were granted, started and ended since the last tick, and keeps
//     the last Ring ticks of launches and starts. Matching starts to launches oldest-first
//     gives the lag (launch to start) and matching ends to starts gives the life (start to
//     end) of each kind; both are learned as moving averages. Ends caused by coolers killing
//     warmer tasks are counted as the cooler's doing, not the warmer's, and the killed tasks
//     (the newest) are taken out of the starts, so later ends are matched to the right ones.
//     Coolers seen acting on 3 ticks while warmers ran, none of which ended, do not kill
//     (producers adding items to a queue that consumers drain): the ends that come while they
//     act are natural (taken for kills, consumers of 36 ticks were learned to live 45, and a
//     queue sat 30 items above its target for 60 ticks).
//     Before any life is known, the ends beyond what the coolers acting could have killed are
//     natural and teach the life (consumers that end while coolers add items to the queue).
//
//  2. It learns how the metric answers. The change of the metric from one tick to the next
//     is modelled as a drift plus, per kind, an effect per running unit per tick (a queue
//     drained by consumers), an effect when a unit starts, and one when it ends (a count of
//     running tasks goes up at the start and down at the end). Recursive least squares with
//     forgetting fits these seven numbers, sign included (its memory starts at 10 ticks and
//     grows by one every 4 ticks up to Lookback, so the first, often censored ticks and the
//     prior's guess do not hold a wrong split of drift and effects for long): a warmer
//     that in fact lowers the metric is learned as such. The model starts as the original
//     Relay's assumption (one unit moves the metric by one while it runs) but holds it loosely,
//     so the first responses replace it. Its covariance is kept a valid covariance (checked
//     by a Cholesky factorisation after every update, bounded above so that forgetting cannot
//     blow up directions nothing excites): a broken one lets a single tick move the model
//     arbitrarily, even flip a sign. A faster estimate of what the model leaves
//     unexplained (DriftGain) follows a changing disturbance, such as a new arrival rate;
//     once the metric's noise estimate has settled (tick 50), a residual further from it than
//     that noise's deviation, where the noise is more than one unit, moves it by DriftGain
//     divided by the noise, so a metric that moves in bursts (items put in once every ten
//     ticks) is not given a new rate at every burst.
//     When the metric moves far from what the model expects while units act (by more than
//     the expected move, or one metric unit, plus the tolerance; from tick 50 on also plus
//     twice the deviation of its unexplained noise), the controller waits a tick to learn from
//     the move rather than act on a model it has just contradicted. Without the
//     noise term, a queue with random arrivals was a surprise on most ticks and the
//     controller answered late, in bursts.
//
//  3. It knows about walls. A queue cannot be emptier than empty: when the metric sits at
//     exactly its highest (or lowest) value ever seen and moved less than the model expected,
//     the tick is censored (it only says the effect was at least that large) and the wall is
//     remembered; if the metric later goes past it, it was no wall (one consumer holding a
//     filling queue flat at its highest value looks like one), and the last censored ticks are
//     learned then. A move toward a wall that ended against it, larger than the model expected
//     (a first batch of consumers draining a queue to empty), is a bound too: the model moves
//     to explain it but gains no confidence from it, so the next moves away from the wall set
//     the effect per unit right rather than leaving it low (which made every recovery after a
//     starved window ask for too many units). So is a tick that the metric spent at a known
//     wall while the model expected it to leave: producers whose items consumers took at once
//     from an empty queue did not "add nothing" (learned so, they were later launched 1000 a
//     tick for a queue 11 items short). A movement that set a new extreme but fell
//     clearly short of what the model expected, and left it at once (a batch emptied the queue
//     and the arrivals refilled it the next tick), may have been cut by a wall never seen
//     before: it is held back like a censored tick (above), and learned only if the metric
//     later goes past that extreme within Lookback ticks. Learned at once, one such tick set a
//     consumer's effect 13% low for over a hundred ticks, and the recovery after the next
//     starved window overshot. Predictions are clipped at a known
//     wall, so units already in flight that would push past it are not mistaken for a reserve;
//     not at one with the target beyond it (no wall, or a target out of reach: clipped there,
//     the units in flight toward the target went uncounted and more were launched each tick).
//     A new extreme reached clearly short of what the units pushing toward it were expected
//     to do may be a wall, and so may the last extreme when the metric stays exactly on it
//     while units were expected to push it further; before the next metric tells, the kind
//     that pulls the metric back is not launched against a prediction past it (a queue's
//     drain predicted past empty drew hundreds of producers in the tick it emptied, or in the
//     next one), while the kind pushing toward it is judged as before.
//     A unit that would start against a wall it pushes toward, with the target on the other
//     side (a consumer started on a queue predicted to be still empty when it starts), would
//     drain nothing for part of its life: it is launched later, once the metric is predicted
//     off the wall when it starts. Units that end in the tick they start (consumers that find
//     a queue empty exit at once), in a movement that the model expected to carry the metric
//     past a known wall and that ended clearly further from it (the items that arrived just
//     after they left), met the wall: that movement is held back like a censored tick, not
//     learned as the units doing little (learned so, the README's example queue sometimes
//     came to believe its consumers filled it, and grew past 100 items).
//     Walls are told by exact equality (a queue's empty reading repeats); a metric read with
//     jitter scatters around one instead. A reading within the operator's tolerance (metric
//     units) beyond a known wall, or twice it inside, is taken as at the wall, and a new
//     extreme within the tolerance of the last reading as the metric staying there. With a
//     tolerance of 0 (the default) nothing changes.
//
//  4. It predicts, then decides. With what is already in flight (pending units start after
//     the lag counted from their launch, running units end after the life counted from their
//     start) and the drift, it predicts the metric over the next ticks. Once coolers have been
//     seen killing warmer tasks, a cooler in flight is predicted to take the running warmer
//     that would end last, whose own end then does not come (counting both would predict the
//     metric too low and ask for too many warmers). A kind's end effect counts only once a tick
//     with ends of it has been learned from: the first ends teach the life at once but their
//     effect only a tick later, and in that tick the prior's end effect (a task count falls by
//     one) had every consumer in flight put an item back as it ended. Until a kind's first
//     ends are seen its pending units are predicted to run for ever, and its running ones to
//     act for another Coincidence ticks or as long again as they have run, whichever is longer
//     (predicted for ever, one consumer draining 9 items a tick was believed to bring a queue
//     of 600 to its target alone, and nothing more was launched until it ended); the other
//     kind is judged by a prediction without their per-tick (run) effect, so it is not
//     launched against an extrapolation (coolers adding items to a queue that consumers of
//     unknown life were predicted to drain for ever: 725 in one tick, the queue rose to 936
//     for a target of 23).
//     For each kind that exists, it takes the predicted gap to the target at that kind's coincidence point (the
//     first tick a unit launched now would act, plus Coincidence-1 ticks of its life) and
//     divides it by what one unit does by then (for a unit whose effect comes when it ends,
//     such as a task that asks an API to scale an app by one, just after its end, once the
//     model is sure of that end effect). The kind that moves the metric the right way
//     most per unit is asked for round(gap / per-unit effect) units, bounded by MaxPerTick and
//     by MaxInFlight minus what is in flight. Inside the Tolerance band it does nothing; a gap
//     under 1e-4 of the controller's units is a rounding of the prediction, not a gap (taken for
//     one, it made a kind act for no units while the other kind's units were due: a queue rose
//     86 items above its target every 25 ticks).
//     The target in that gap is where a moving target will be when a unit launched now starts
//     to act (the kind's lag ahead), by its recent course: its last change and how that
//     change has been changing, looking no further ahead than the ticks it has moved smoothly
//     (each change the same way as the one before and within a factor of 2 of it) and leading
//     it by no more than it moved in them; half as far ahead while the course is slowing (its
//     change shrinking: a sine past its midline will turn, and led as far as it had run, kills
//     of tasks that act 29 ticks after their launch were aimed 16 below a sine's trough and
//     could not be undone). A target that steps (a square wave, a schedule) is
//     aimed at where it is; one read with noise of -2..2 is led by 0.12 on average and 4 at
//     most. Aimed at where it was, tasks that start 8 ticks after their launch trailed a sine
//     target by 4.0 on average (now 0.4), and consumers of a queue that start 6 ticks after
//     theirs by 5.8 (now 1.9). The price is at a ramp's end, which no course foretells: a
//     target that rises 2 a tick and then stays is passed by about its last change times the
//     lag (tasks that start a tick after their launch: 82 for a target of 80).
//
// Why it does not over-drive a lagging plant: units in flight are in the prediction, so a unit
// is asked for once, not again on every tick until it shows (the original asked for the whole
// error every tick and launched about 390 tasks for a target of 50 with a 10-tick lag).
//
// Why it does not wind up after starvation: there is no integral of the error. Each tick's
// request is recomputed from the metric and what is actually in flight; what the cluster did
// not grant is withdrawn, not accumulated. The controller's integral terms (the drift and the
// recent disturbance) are learned from how the metric moves given what really ran, so a tick
// with nothing granted teaches them the truth (the drift) rather than a debt. When offers
// return, it asks for what the gap needs then, no more. And for 50 ticks after a request that
// was granted nothing, a move toward the target from the side the starved window left the
// metric on is rounded down rather than to the nearest unit, so the metric approaches without
// crossing the target (to the nearest, the last unit carried it past by up to half a unit's
// effect: consumers of 60 items each emptied a queue that the window left 180 items above its
// target, 30 items past it). Where the kind works
// against a steady drift, rounding down would hold the metric half a unit short, and a unit
// too many is taken back by launching one fewer later: there it rounds down only while the
// metric is more than one unit's effect from the target. A unit that would carry the metric
// past the target by more than a tenth of the error waits twice ProbeAfter, not once. For
// those 50 ticks new units are also judged 1.5 times further ahead (30 ticks at the default
// Coincidence of 20): judged at 20, consumers living longer were asked for enough to close the
// window's gap by then, and the ones still running carried the metric past the target. At 20
// elsewhere (it was 30), 16 more of 4000 wider generated scenarios meet every target, the
// same number of the tuning ones do, and the IAE is lower on each set.
//
// Why it cannot deadlock: if the error stays outside max(one, Tolerance) for ProbeAfter ticks
// (one: one of the controller's units, but at most one metric unit; see the metric's scale)
// without any request, it asks for one unit anyway: of a kind believed to help (a unit whose
// first tick of acting would carry the metric past the target by more than the error, its
// effect that tick 2.5 times the error or more and no known wall at the target to stop it,
// could help only if that effect was learned too large: it waits 20 ProbeAfters instead), or,
// if none is, it probes a kind not yet seen working (its sign may be the opposite of its name: a
// consumer task named the warmer lowers a metric that is the queue's size). A tick on which
// the error grows while no kind is believed to close it counts four times toward ProbeAfter,
// and so does one with the metric held at a wall (an empty queue below its target) while a
// kind has never been tried: no drift lifts a metric off a wall. A kind believed not to help
// (a belief is only as good as the episodes it came from) is probed again once the error has
// persisted for 20 ProbeAfters of such counting, the wait doubling after each largest probe
// that told nothing, and after each re-probing round whose clear answer was that the kind
// pushes the metric away from the target (it confirmed the belief; at the same interval for
// ever, such rounds cost 15 units every 150 ticks on a queue its only kind filled further), and
// after each re-probe that told nothing while the metric stayed pressed against a wall the
// kind is believed to push into (that too is the belief confirmed; doubled in size instead,
// consumers of a queue they had emptied were re-probed up to 119 at a time);
// after 9 for a kind believed to work against its name whose units were
// acting from the first tick the model learned from (the drift never seen without them, the
// model could only split the metric's motion between the two: consumers that met a queue's
// arrival from the first tick were learned to fill it). Such a kind whose units still run
// is not left to run out: once the error has persisted for ProbeAfter, as many units of it
// again are launched, once (at most one per metric unit of error), and the change in their
// number tells their effect from the drift's. A kind whose learned effect has clearly turned
// round since the controller last launched it on that effect is re-probed after 9 too: the
// units that taught the turn may have met a wall or a lump of arrivals (consumers that started
// on an empty queue just before items landed can teach that consumers fill it). A probe the
// cluster never granted (a starved window) gives its wait back and is asked again at once.
// A kind counts as seen working only from ticks the model learned from: ticks censored at a
// wall (producers whose items running consumers took at once from an empty queue) do not count,
// so such a kind is still probed rather than written off unseen.
//
// Why a wrong belief does not turn into a flood: at a wall every tick is censored, so the model
// alone cannot learn that the units it sends there do not help. If units of the kind chosen to
// move the metric off a wall toward the target (its learned effect pointing off the wall; not
// a kind holding the metric there) have run for a whole lag and life while the
// metric stayed pinned, that kind's effects are forgotten (zero, held loosely) and it is probed
// afresh, one unit at a time as below. Ticks that the model explains (the metric moved as
// predicted, within twice its noise) while that kind acts alone do not count: its units are
// holding the metric against a drift that would carry it further (consumers at the cluster's
// most draining exactly what arrives), and the extreme was no wall.
//
// How a probe is judged: while its units are in flight, the metric's motion is learned against the
// drift seen just before the probe (held, not learned, for those ticks), so a unit whose effect is
// smaller than the drift (one consumer against a faster arrival) still shows its sign. The probe
// also records how far the metric departed from where that drift alone would have taken it. If
// that departure did not stand out (from a quarter of the drift over those ticks, from three times
// the metric's recent unexplained noise, from twice Tolerance, and from 0.4 of a unit: on a still
// metric, one unit that moves it by half a unit has answered) and the kind is still not believed
// to help, the next probe of that kind is twice as large, up to the units that would close the
// error at one metric unit each and the bounds; a probe of that size that still tells nothing ends
// the probing of that kind. A probe is judged by the units the cluster granted, and one granted
// in part is as large as the cluster allows: if it told nothing, it too ends the probing (asked
// for again and again past the grant, probes of a useless kind kept the other kind's re-probe
// from ever coming). That holds for a probe that acted alone: one that told nothing while
// the other kind had units in flight may have had its answer taken by them (coolers' items eaten
// as they came by consumers at an empty queue), so it is repeated at its size, and ends nothing. A
// probe that stood out, or after which the controller acts on what it learned, ends the doubt,
// except one that seemed to push the metric away from the target while the error grew and the
// drift itself carried the metric away from the target, far enough to matter (over the probe's
// ticks at least a quarter of the probe's departure): a drift that was growing (an arrival in its
// rising phase) looks just like that, so such a probe is doubled too, until it reaches the bound,
// unless its departure doubled with its units (per unit within 0.6-1.6 of the last doubled
// probe's, the same way, out of the noise and twice Tolerance, in a probe of 8 units or more): a
// growing drift does not follow the probe's size, units do, so such a departure is the probe's
// answer however small next to the drift; so is a departure made in one jump (half of it or more
// in a single tick, the same way, out of the noise): a growing drift departs a little more each
// tick, units starting or ending at once (producers of 24 items each, doubled 1, 2, 4, 8 in each
// of three rounds at a queue their steady arrivals took away from its target: 45 for nothing,
// now 3). With the drift carrying the metric toward the target,
// the units did it: settled. A probe that stood out, acting alone (the other kind had nothing in
// flight), settles the kind as seen working (either way): it is not probed again as a kind never
// seen, only by the re-probe against a deadlock. The noise it is judged against is learned outside
// probes only: inside one, the model's error is the probe's own effect. A doubt is about the need
// it arose under (the metric too high, or too low): the larger probe waits until that need is
// back, rather than pushing the metric the other way.
// So a wrong-sign prior costs a few units, and a kind that cannot help is not escalated for
// ever. A kind learned to move the metric against its name got there through zero, and its
// effect may be a small split of nothing: it is launched in at most max(|error| at one metric
// unit a unit, twice the unit-ticks it has been seen acting while the metric moved off the
// drift's path) units a tick; a move counts from the smaller of 1 and a hundredth of the range
// the metric has covered (and from twice Tolerance, the reading itself moving by more than
// that: a move is the difference of two noisy readings), so a metric that units move by a
// hundredth is not held to its error. So is a kind
// learned to move the metric by less than a tenth of a unit a unit, once the metric has read 10
// or more (jitter at an empty queue taught consumers 0.06 a unit, and 1000 a tick were asked).
// So is a kind seen acting while the metric has never moved at all (a tiny effect with its
// name is the same split of nothing: consumers of a queue that nothing fills); once it has
// acted for twice the unit-ticks that would close the error at one unit each and the metric
// still has not moved, it is not believed to help at all, and the other kind is probed.
// With a noise band set (Tolerance above 0: the operator says the metric is noisy), any kind's
// learned effect that is within two of its standard errors of nothing (the model's covariance
// times the noise) is not taken at its word: the units are counted as if each moved the metric
// by two standard errors, at least one unit. Jitter at an empty queue taught consumers 0.16 a
// unit, over the tenth above, and 373, then 1000 a tick were asked. Without a noise band the
// residuals are mostly the model's own misfit while it learns, and counting so there cost 3%
// of the generated scenarios their targets.
//
// The first moves of a kind not yet seen working are scaled by Caution, since the prior is a
// guess, and sized as if a unit moved the metric by at least one metric unit: until a few of
// its units have acted, a tiny learned effect is an unresolved split of start, run and end
// effects, not a measurement. Scaled, they are rounded up to at least one unit when they move
// the metric toward the target from where it is now; against an overshoot predicted from units
// in flight they are never more than the units without Caution (rounded up, a fifth of a unit
// of predicted overshoot asked for a warmer, then a cooler, in turn for ten ticks).
//
// A kind never launched takes the size of its prior from the other kind, once that kind is
// confirmed (seen acting on a few units) and was not Blind: one of its units is taken to move
// the metric as far as one of the other kind's does (at least one metric unit), the way its
// name says, as a step while it runs (the prior's shape). A queue's producers and consumers,
// and tasks started and tasks killed, are often of one size. At one metric unit a unit,
// producers beside consumers learned to drain 95 items each were launched 60 before the first
// of them could act, 8 ticks after its launch, and the queue rose to 649 items for a target of
// 57; with the borrowed size, 2 were, and it rose to 171. Where the two kinds truly differ, the
// first units' answer corrects it as it corrects the prior. A kind that moves the metric
// against its name turns the never-launched kind round too, once it has clearly moved the
// metric (10 unit-ticks on ticks the metric moved) and its units have been seen to end (before
// that, 55 consumers of 39 ticks that had just emptied a queue went on eating what producers
// lent their size put in): a metric read negated (a queue's length as minus the items) or
// producers named coolers turn both kinds round, so the never-launched kind's borrowed effect
// is taken the other way from the confirmed kind's rather than the way its own name says.
// Producers named coolers filled a queue past its target of 35 while the consumers, named
// warmers, were believed to fill it too: one was probed and a batch came only at tick 25, with
// the queue at 586 items; turned round, they come in batches from tick 11 and the queue rises
// to 405. The borrowing stops once the kind has units in flight or has started any.
//
// # The metric's scale
//
// Several rules take one unit of the controller's own as the metric's scale: the prior (one
// unit a unit), the first moves' sizing, the probe and persistent-error thresholds (1). They
// were set on task counts and queue lengths. A metric read in thousands (requests a second)
// or as a fraction (a CPU share, a fill ratio) is not those, so the controller divides the
// metric, the target and the tolerance by State.Scale before anything else, and multiplies
// what it reports (error, prediction, learned effects, the trace) back: 1 while the larger of
// |metric| and |target| at the first tick they are not both zero is between 1 and 300; else
// the power of ten that brings it into [30, 300). It is chosen once and checkpointed with the
// model; an operator whose first readings mislead (a fraction that will grow past 1, a
// startup reading of 0.2 for a rate of thousands) sets it instead (metric-scale). Counts are
// not read as fractions (a task count of 0 for a target of 2 stays in tasks; taken from below
// 3, 200 tasks were started for it), but a first reading below 3 that is not a whole number
// is no count, and is scaled as one below 1 is. A metric read in thousands of the units it
// was tuned in is then controlled as in those units when its readings there are between 30
// and 300, and as a plant ten times larger or smaller otherwise (the controller's rules are not
// exact under that; of the 504 generated queue plants of seeds 5001-6000, 452 meet every target
// in their own units, 446 read in thousands, 445 in thousandths and 444 in hundredths; 396 in
// hundredths, measured earlier, while readings of 1 to 3 stayed unscaled whole or not). The
// probe and persistent-error thresholds are never more than one metric unit, whatever the
// scale: a queue of 55 items read with an offset of 974 is scaled by ten, and an error of 1 to
// 10 items was left for ever, where the same queue read without the offset was held to its
// target.
//
// # Tunables and defaults (flag names; a scenario's "controller" object uses them too)
//
//	max-per-tick   1000 (cmd default 100)  units of one kind asked for in one tick
//	max-in-flight  10000 (cmd default 1000) units of one kind pending or running at once
//	tolerance      0      no action while |predicted gap| <= tolerance (metric units); readings
//	                      within it of a known wall are taken as at the wall (a noise band);
//	                      above 0, an effect within two standard errors of 0 is counted at two
//	metric-scale   0      metric units of one of the controller's own; 0: from the first readings
//	lookback       100    ticks of memory of the response model (from 10, reached by tick 400)
//	caution        0.5    scale of the first moves of a kind not yet seen working
//	coincidence    20     ticks of a new unit's life the decision looks ahead, at most (1.5 times
//	                      that for 50 ticks after a starved window)
//	probe-after    20     ticks of persistent error without action before a probe (growing: 4 each)
//	drift-gain     0.3    how fast the recent-disturbance estimate follows the residual (divided
//	                      by the metric's noise for a residual beyond it, from tick 50)
//
// # State
//
// State holds the metric's scale, the tick count, the last metric, the model (seven numbers
// and their covariance), the walls, the metric's unexplained noise, the probe under way, and
// per kind the last Ring ticks of launches and starts, the learned lag and life, the units seen
// killed, the size of its next probe and its last doubled probe's departure, the ledger counts
// of the previous tick, and when it was last starved. The probe, noise, next-probe, departure,
// end-prior, blind, drift-seen, re-check, spared and starvation fields were added within version 1: an older
// checkpoint decodes with them zero (no probe under way, no doubt, no departure to compare a
// probe with, end effects taken as learned, no kind taken as blind, no re-probing round under
// way, no evidence that coolers spare warmers, no starvation care, a probe
// under way not taken as acting alone), which is a valid state. So was the scale: a checkpoint holds metric units whatever
// the scale (a binary from before it, during a rolling upgrade or a rollback, reads the model
// right and ignores the scale), and one without a scale that has seen a metric is read at
// scale 1. The histories are Ring (256) ticks long; they were 128 before the state said its
// ring's length, and such a checkpoint's histories are moved to the longer ring on reading
// (an older binary reads the first 128 ticks of a newer one's, and times its tasks wrong
// until they have turned over). It is versioned (StateVersion);
// MarshalState and UnmarshalState convert it for checkpoints, refusing a newer version or a state
// that does not hold together. A new leader that restores it resumes with the learned model; after
// a gap of several ticks (Config.Delay tells the tick length) it shifts its history so ages stay
// right. The state notes the tick length it was learned at (added within version 1; an older
// checkpoint has none and is resumed as it is): a runner ticking at another length (--delay
// changed between leaders) has the controller learn again (Controller.Retick), keeping only
// the metric's scale, the last tick's time and the ledger's last counts.
package loop
