package framework

import (
	"context"
	"fmt"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// BenchmarkOffers places N units on M offers (two offers per agent, room for 1.5 N units in
// all): planning, intents in the ledger, TaskInfos and the ACCEPT/DECLINE calls, against a
// caller that answers at once. Reported: units placed and ACCEPTs per op, and allocations.
func BenchmarkOffers(b *testing.B) {
	for _, sz := range []struct{ units, offers int }{{10, 2}, {100, 10}, {1000, 100}, {1000, 1000}} {
		b.Run(fmt.Sprintf("units=%d/offers=%d", sz.units, sz.offers), func(b *testing.B) {
			cfg := Config{Task: Resources{CPUs: 0.1, Mem: 32}}
			per := float64(sz.units) * 1.5 / float64(sz.offers)
			offers := make([]mesos.Offer, sz.offers)
			for i := range offers {
				offers[i] = testOffer(fmt.Sprintf("o%d", i), fmt.Sprintf("a%d", i/2),
					scalar("cpus", per*0.1+0.01, "*", ""), scalar("mem", per*32+1, "*", ""), scalar("disk", 1000, "*", ""))
				offers[i].Attributes = []mesos.Attribute{textAttr("rack", "r1")}
			}
			b.ReportAllocs()
			var placed, accepts int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, sub, fc := offerSched(b, cfg)
				s.Demand(sz.units, 0)
				b.StartTimer()
				if err := sub.offers(context.Background(), offers); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				for _, c := range fc.of(scheduler.Call_ACCEPT) {
					placed += len(launchedIDs(c))
					accepts++
				}
				b.StartTimer()
			}
			b.StopTimer()
			if placed != sz.units*b.N {
				b.Fatalf("placed %d units in %d runs, want %d each", placed, b.N, sz.units)
			}
			b.ReportMetric(float64(placed)/float64(b.N), "units/op")
			b.ReportMetric(float64(accepts)/float64(b.N), "accepts/op")
		})
	}
}
