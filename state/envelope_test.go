package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEnvelopeRoundtripKeepsPayloadBytesExactly(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for _, tc := range []struct {
		name    string
		payload []byte
		raw     bool // stored as a JSON value (readable), not base64
	}{
		{"compact json object", []byte(`{"v":1,"controller":{"k":[1,2,3]},"ledger":{}}`), true},
		{"json with inner spaces and escapes", []byte(`{"a": "\u00e9\n", "b" : [ 1 , 2 ]}`), true},
		{"json string", []byte(`"hello"`), true},
		{"json null", []byte(`null`), true},
		{"json with trailing newline", []byte("{\"a\":1}\n"), false},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe, '"', '\\'}, false},
		{"empty", []byte{}, false},
		{"not json", []byte("hello world"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encode(42, at, tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Fatalf("stored form is not JSON: %s", b)
			}
			if got := bytes.Contains(b, []byte(`"payload":`)); got != tc.raw {
				t.Errorf("payload embedded as JSON = %v, want %v: %s", got, tc.raw, b)
			}
			c, err := decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Payload, tc.payload) || c.Payload == nil {
				t.Errorf("payload = %q, want %q", c.Payload, tc.payload)
			}
			if c.Schema != Schema || c.Token != 42 || !c.WrittenAt.Equal(at) {
				t.Errorf("header = schema %d token %d at %v", c.Schema, c.Token, c.WrittenAt)
			}
		})
	}
}

func TestEnvelopeRefusesDamageAndNewerSchemas(t *testing.T) {
	good, err := encode(7, time.Unix(0, 0), []byte(`{"ticks":12345}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stored string
		want   error
	}{
		{"garbage", "\x00\x01garbage", ErrCorrupt},
		{"empty node", "", ErrCorrupt},
		{"truncated", string(good[:len(good)/2]), ErrCorrupt},
		{"other format", `{"format":"something-else","schema":1}`, ErrCorrupt},
		{"payload changed", strings.Replace(string(good), "12345", "12346", 1), ErrCorrupt},
		{"size changed", strings.Replace(string(good), `"size":15`, `"size":14`, 1), ErrCorrupt},
		{"schema zero", strings.Replace(string(good), `"schema":1`, `"schema":0`, 1), ErrCorrupt},
		{"both payload fields", strings.Replace(string(good), `"payload":`, `"payload_b64":"AA==","payload":`, 1), ErrCorrupt},
		{"newer schema", strings.Replace(string(good), `"schema":1`, `"schema":2`, 1), ErrFutureSchema},
		{"newer schema with a new layout", `{"format":"relay-mesos/checkpoint","schema":9,"payload":{"chunks":[1,2]},"size":"big"}`, ErrFutureSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode([]byte(tc.stored))
			if !errors.Is(err, tc.want) {
				t.Fatalf("decode = %v, want %v", err, tc.want)
			}
			other := ErrCorrupt
			if tc.want == ErrCorrupt {
				other = ErrFutureSchema
			}
			if errors.Is(err, other) {
				t.Fatalf("decode = %v is also %v", err, other)
			}
		})
	}
}

func TestEnvelopeSizeBound(t *testing.T) {
	// A JSON string payload of exactly MaxPayload bytes: stored as is, under 64 KiB.
	atMax := []byte(`"` + strings.Repeat("x", MaxPayload-2) + `"`)
	b, err := encode(1, time.Now(), atMax)
	if err != nil {
		t.Fatalf("payload of MaxPayload bytes: %v", err)
	}
	if len(b) >= 64<<10 {
		t.Fatalf("stored %d bytes, want < 64 KiB", len(b))
	}
	over := []byte(`"` + strings.Repeat("x", MaxPayload-1) + `"`)
	if _, err := encode(1, time.Now(), over); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("payload of MaxPayload+1 bytes: %v, want ErrTooLarge", err)
	}
	// Non-JSON payloads are base64 (4/3 the size): 50 KiB of binary does not fit.
	if _, err := encode(1, time.Now(), bytes.Repeat([]byte{0}, 50<<10)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("50 KiB binary payload: %v, want ErrTooLarge", err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := encode(3, time.Unix(1, 0), []byte(`{"a":[1,2]}`))
	bin, _ := encode(3, time.Unix(1, 0), []byte{0, 1, 2})
	f.Add(good)
	f.Add(bin)
	f.Add([]byte(`{"format":"relay-mesos/checkpoint","schema":1,"size":0,"sha256":""}`))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFutureSchema) {
				t.Fatalf("decode error %v is neither ErrCorrupt nor ErrFutureSchema", err)
			}
			return
		}
		// Whatever decodes must survive a rewrite unchanged.
		again, err := encode(c.Token, c.WrittenAt, c.Payload)
		if err != nil {
			return // e.g. a valid base64 payload that is too large once re-encoded
		}
		c2, err := decode(again)
		if err != nil || !bytes.Equal(c2.Payload, c.Payload) || c2.Token != c.Token {
			t.Fatalf("rewrite changed the checkpoint: %v", err)
		}
	})
}
