package localmaster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestConformanceCalls replays shared/mesos-transcripts/real-mesos-1.12-calls.txt: the same
// requests must get the same status codes, headers that matter, bodies and first events.
func TestConformanceCalls(t *testing.T) {
	m := startMaster(t, Config{Resources: "cpus:2;mem:2048;disk:4096;ports:[31000-32000]"})
	api := m.URL() + "/api/v1/scheduler"
	jsonHdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}

	res := rawPost(t, api, subscribeBody("conformance", "", 0), jsonHdr)
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" ||
		len(res.TransferEncoding) != 1 || res.TransferEncoding[0] != "chunked" {
		t.Fatalf("subscribe: %d %v te=%v", res.StatusCode, res.Header, res.TransferEncoding)
	}
	streamID := res.Header.Get("Mesos-Stream-Id")
	if !uuidRE.MatchString(streamID) {
		t.Fatalf("Mesos-Stream-Id %q is not a UUID", streamID)
	}
	rr := recordReader{bufio.NewReader(res.Body)}
	sub := rr.nextJSON(t)
	if sub["type"] != "SUBSCRIBED" {
		t.Fatalf("first record %v", sub)
	}
	subd := sub["subscribed"].(map[string]any)
	fwID := subd["framework_id"].(map[string]any)["value"].(string)
	mi := subd["master_info"].(map[string]any)
	if fmt.Sprint(subd["heartbeat_interval_seconds"]) != "0.5" || mi["ip"] != json.Number("16777343") ||
		mi["address"].(map[string]any)["ip"] != "127.0.0.1" || mi["pid"] != "master@"+m.Addr() ||
		fwID != mi["id"].(string)+"-0001" {
		t.Fatalf("SUBSCRIBED differs from the transcript's shape: %v", sub)
	}
	if hb := rr.nextJSON(t); hb["type"] != "HEARTBEAT" {
		t.Fatalf("second record %v, want HEARTBEAT", hb)
	}
	offers := rr.nextJSON(t)
	if offers["type"] != "OFFERS" {
		t.Fatalf("third record %v, want OFFERS", offers)
	}
	o := offers["offers"].(map[string]any)["offers"].([]any)[0].(map[string]any)
	if o["framework_id"].(map[string]any)["value"] != fwID || o["hostname"] != "127.0.0.1" ||
		o["url"].(map[string]any)["path"] != "/slave(1)" {
		t.Fatalf("offer %v", o)
	}
	got := fmt.Sprint(o["resources"])
	want := "[map[name:ports ranges:map[range:[map[begin:31000 end:32000]]] role:* type:RANGES] " +
		"map[name:cpus role:* scalar:map[value:2] type:SCALAR] map[name:mem role:* scalar:map[value:2048] type:SCALAR] " +
		"map[name:disk role:* scalar:map[value:4096] type:SCALAR]]"
	if got != want {
		t.Fatalf("offer resources\n got %s\nwant %s", got, want)
	}

	revive := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"REVIVE"}`, fwID)
	text := "text/plain; charset=utf-8"
	cases := []struct {
		name, body string
		hdr        map[string]string
		method     string
		code       int
		ctype      string
		want       string
		allow      string
	}{
		{"no stream id", revive, map[string]string{"Content-Type": "application/json"}, "POST", 400, text,
			"All non-subscribe calls should include the 'Mesos-Stream-Id' header", ""},
		{"wrong stream id", revive, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": "00000000-0000-0000-0000-000000000000"}, "POST", 400, text,
			"The stream ID '00000000-0000-0000-0000-000000000000' included in this request didn't match the stream ID currently associated with framework ID " + fwID, ""},
		{"right stream id", revive, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 202, "", "", ""},
		{"wrong content type", revive, map[string]string{"Content-Type": "text/plain", "Mesos-Stream-Id": streamID}, "POST", 415, text,
			"Expecting 'Content-Type' of application/json or application/x-protobuf", ""},
		{"no content type", revive, map[string]string{"Mesos-Stream-Id": streamID}, "POST", 400, text,
			"Expecting 'Content-Type' to be present", ""},
		{"GET", "", nil, "GET", 405, text, "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'.", "POST"},
		{"subscribe with stream id", subscribeBody("x", "", 0), map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 400, text,
			"Subscribe calls should not include the 'Mesos-Stream-Id' header", ""},
		{"malformed JSON", "not json", map[string]string{"Content-Type": "application/json"}, "POST", 400, text,
			"Failed to parse body into JSON: syntax error at line 1 near: not json", ""},
		{"subscribe accepting only recordio", subscribeBody("x", "", 0), map[string]string{"Content-Type": "application/json", "Accept": "application/recordio"}, "POST", 406, text,
			"Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'", ""},
		{"unknown framework", `{"framework_id":{"value":"nope"},"type":"REVIVE"}`, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 400, text,
			"Framework cannot be found", ""},
		{"no framework id", `{"type":"REVIVE"}`, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 400, text,
			"Failed to validate scheduler::Call: Expecting 'framework_id' to be present", ""},
		{"teardown", fmt.Sprintf(`{"framework_id":{"value":%q},"type":"TEARDOWN"}`, fwID), map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 202, "", "", ""},
		{"after teardown", revive, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": streamID}, "POST", 400, text,
			"Framework cannot be found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var res *http.Response
			if c.method == "GET" {
				r, err := http.Get(api)
				if err != nil {
					t.Fatal(err)
				}
				res = r
			} else {
				res = rawPost(t, api, c.body, c.hdr)
			}
			body := readAll(t, res)
			if res.StatusCode != c.code || body != c.want || res.Header.Get("Content-Type") != c.ctype ||
				res.Header.Get("Allow") != c.allow {
				t.Fatalf("got %d %q ct=%q allow=%q; want %d %q ct=%q allow=%q",
					res.StatusCode, body, res.Header.Get("Content-Type"), res.Header.Get("Allow"), c.code, c.want, c.ctype, c.allow)
			}
			if c.code == 202 && res.ContentLength != 0 {
				t.Fatalf("202 with Content-Length %d, want 0", res.ContentLength)
			}
		})
	}
	// The torn-down framework's stream ends.
	for {
		if _, err := rr.next(); err != nil {
			break
		}
	}
}

// TestConformanceFailover replays real-mesos-1.12-failover.txt: a second SUBSCRIBE with the
// same FrameworkID succeeds; the first stream gets ERROR "Framework failed over" (exact
// bytes) and is closed cleanly.
func TestConformanceFailover(t *testing.T) {
	m := startMaster(t, Config{})
	api := m.URL() + "/api/v1/scheduler"
	hdr := map[string]string{"Content-Type": "application/json"} // no Accept: JSON by default
	a := rawPost(t, api, subscribeBody("failover", "", 3600), hdr)
	defer func() { _ = a.Body.Close() }()
	ra := recordReader{bufio.NewReader(a.Body)}
	first := ra.nextJSON(t)
	fwID := first["subscribed"].(map[string]any)["framework_id"].(map[string]any)["value"].(string)

	b := rawPost(t, api, subscribeBody("failover", fwID, 3600), hdr)
	defer func() { _ = b.Body.Close() }()
	if b.StatusCode != 200 || b.Header.Get("Mesos-Stream-Id") == a.Header.Get("Mesos-Stream-Id") {
		t.Fatalf("second subscribe: %d stream %q", b.StatusCode, b.Header.Get("Mesos-Stream-Id"))
	}
	rb := recordReader{bufio.NewReader(b.Body)}
	sub := rb.nextJSON(t)
	if sub["type"] != "SUBSCRIBED" || sub["subscribed"].(map[string]any)["framework_id"].(map[string]any)["value"] != fwID {
		t.Fatalf("stream B first record %v", sub)
	}
	var last []byte
	for {
		rec, err := ra.next()
		if err != nil {
			break // clean end of the chunked body (the zero-length chunk)
		}
		last = rec
	}
	if string(last) != `{"type":"ERROR","error":{"message":"Framework failed over"}}` {
		t.Fatalf("stream A's last record %q", last)
	}
	// Calls with A's stream id are fenced; B's work.
	body := fmt.Sprintf(`{"framework_id":{"value":%q},"type":"RECONCILE","reconcile":{}}`, fwID)
	res := rawPost(t, api, body, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": a.Header.Get("Mesos-Stream-Id")})
	if got := readAll(t, res); res.StatusCode != 400 || got != "The stream ID '"+a.Header.Get("Mesos-Stream-Id")+
		"' included in this request didn't match the stream ID currently associated with framework ID "+fwID {
		t.Fatalf("old stream id: %d %q", res.StatusCode, got)
	}
	res = rawPost(t, api, body, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": b.Header.Get("Mesos-Stream-Id")})
	if readAll(t, res); res.StatusCode != 202 {
		t.Fatalf("new stream id: %d", res.StatusCode)
	}
	st := m.Snapshot()
	if len(st.Frameworks) != 1 || len(st.Frameworks[0].Subscriptions) != 2 || st.Frameworks[0].Subscriptions[1].Number != 2 {
		t.Fatalf("state frameworks %+v", st.Frameworks)
	}
}
