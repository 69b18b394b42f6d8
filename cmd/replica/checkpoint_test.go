package replica

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/relay-mesos/relay-mesos/framework"
	"github.com/relay-mesos/relay-mesos/loop"
	"github.com/relay-mesos/relay-mesos/state"
)

// A checkpoint of a busy framework (thousands of live tasks) stays under the store's bound,
// and decodes to the same controller state and ledger.
func TestCheckpointPayloadStaysSmallAndRoundTrips(t *testing.T) {
	ctrl := loop.New(loop.DefaultConfig())
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 500; i++ { // a week of ticks does not grow the state: it is fixed-size
		ctrl.Step(loop.Input{Now: now.Add(time.Duration(i) * time.Second), Metric: loop.Sample{Value: float64(i % 50), OK: true}, Target: loop.Sample{Value: 20, OK: true}})
	}
	st := ctrl.State()
	cb, err := loop.MarshalState(&st)
	if err != nil {
		t.Fatal(err)
	}
	for _, live := range []int{0, 100, 2000} {
		snap := framework.LedgerSnapshot{Seq: uint64(live)}
		for i := 0; i < live; i++ {
			snap.Tasks = append(snap.Tasks, framework.TaskRecord{
				ID: fmt.Sprintf("relay-warmer-t4294977296-%d", i), Kind: loop.Warmer, State: framework.StateRunning,
				Agent: fmt.Sprintf("73a9c4f3-7e53-42ee-992d-63fb73081108-S%d", i%20), Term: 4294977296,
				Created: now.UnixMilli() + int64(i), Updated: now.UnixMilli() + int64(i),
			})
		}
		b, err := encodePayload(payload{Version: payloadVersion, Token: 7, Controller: cb, Ledger: snap})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > state.MaxPayload {
			t.Fatalf("%d live tasks: payload %d bytes > %d", live, len(b), state.MaxPayload)
		}
		t.Logf("%d live tasks: checkpoint payload %d bytes", live, len(b))
		gotState, gotLedger, err := decodePayload(b)
		if err != nil {
			t.Fatal(err)
		}
		if gotState.Theta != st.Theta || len(gotLedger.Tasks) != live {
			t.Fatalf("round trip lost data: theta %v vs %v, tasks %d vs %d", gotState.Theta, st.Theta, len(gotLedger.Tasks), live)
		}
	}
}

// A payload from a newer binary is refused with a clear error (and the caller leaves the node alone).
func TestCheckpointPayloadFromNewerVersionIsRefused(t *testing.T) {
	b, _ := json.Marshal(map[string]any{"v": payloadVersion + 1, "token": 1})
	_, _, err := decodePayload(b)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v, want a 'newer' error", err)
	}
	if _, _, err := decodePayload([]byte("\x1f\x8bgarbage")); err == nil {
		t.Fatal("corrupt gzip payload accepted")
	}
}
