package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// envelopeFormat names the stored format; anything else is not a checkpoint of ours.
const envelopeFormat = "relay-mesos/checkpoint"

// envelope is the stored form of a checkpoint: one JSON object, readable with zkCli or jq.
// A payload that is itself compact JSON is embedded as is ("payload"), so that the stored
// bytes stay below 64 KiB; any other payload is base64 ("payload_b64"). The checksum covers
// the payload bytes exactly as Save received them.
type envelope struct {
	Format     string          `json:"format"`
	Schema     int             `json:"schema"`
	Token      int64           `json:"token"`
	WrittenAt  time.Time       `json:"written_at"`
	Size       int             `json:"size"`
	SHA256     string          `json:"sha256"`
	PayloadB64 []byte          `json:"payload_b64,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// encode builds the stored bytes. It refuses payloads above MaxPayload and envelopes of
// MaxEnvelope bytes or more (ErrTooLarge).
func encode(token int64, at time.Time, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("%w: payload is %d bytes, the bound is %d", ErrTooLarge, len(payload), MaxPayload)
	}
	sum := sha256.Sum256(payload)
	e := envelope{Format: envelopeFormat, Schema: Schema, Token: token, WrittenAt: at.UTC(), Size: len(payload), SHA256: hex.EncodeToString(sum[:])}
	raw := embeddable(payload)
	if !raw {
		e.PayloadB64 = payload
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	if raw {
		// Append the payload by hand: json.Marshal would re-format a RawMessage and change
		// the bytes the checksum covers.
		b = append(b[:len(b)-1], `,"payload":`...)
		b = append(b, payload...)
		b = append(b, '}')
	}
	if len(b) > MaxEnvelope {
		return nil, fmt.Errorf("%w: stored form is %d bytes, the bound is %d (a payload that is not compact JSON is stored as base64)", ErrTooLarge, len(b), MaxEnvelope)
	}
	return b, nil
}

// embeddable reports whether p can be stored as a JSON value and read back byte for byte.
func embeddable(p []byte) bool {
	if len(p) == 0 || !json.Valid(p) {
		return false
	}
	return !unicode.IsSpace(rune(p[0])) && !unicode.IsSpace(rune(p[len(p)-1]))
}

// decode checks and unpacks stored bytes: ErrCorrupt or ErrFutureSchema (wrapped, with the
// reason) when they cannot be used.
func decode(b []byte) (Checkpoint, error) {
	var head struct {
		Format string `json:"format"`
		Schema int    `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: not a JSON envelope (%d bytes starting %q): %v", ErrCorrupt, len(b), prefix(b), err)
	}
	if head.Format != envelopeFormat {
		return Checkpoint{}, fmt.Errorf("%w: format is %q, want %q", ErrCorrupt, head.Format, envelopeFormat)
	}
	if head.Schema > Schema {
		return Checkpoint{}, fmt.Errorf("%w: schema %d, this binary reads up to schema %d", ErrFutureSchema, head.Schema, Schema)
	}
	if head.Schema < 1 {
		return Checkpoint{}, fmt.Errorf("%w: schema %d", ErrCorrupt, head.Schema)
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	payload := []byte(e.Payload)
	switch {
	case e.Payload != nil && e.PayloadB64 != nil:
		return Checkpoint{}, fmt.Errorf("%w: both payload and payload_b64 are set", ErrCorrupt)
	case e.Payload == nil:
		payload = e.PayloadB64
	}
	if len(payload) != e.Size {
		return Checkpoint{}, fmt.Errorf("%w: payload is %d bytes, the envelope says %d", ErrCorrupt, len(payload), e.Size)
	}
	sum := sha256.Sum256(payload)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, e.SHA256) {
		return Checkpoint{}, fmt.Errorf("%w: payload sha256 is %s, the envelope says %q", ErrCorrupt, got, e.SHA256)
	}
	if payload == nil {
		payload = []byte{}
	}
	return Checkpoint{Schema: e.Schema, Token: e.Token, WrittenAt: e.WrittenAt, Payload: bytes.Clone(payload)}, nil
}

// prefix is the start of b for error messages.
func prefix(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
