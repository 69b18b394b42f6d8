package localmaster

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/x-protobuf"
)

// stream is one SUBSCRIBE connection: a queue of encoded events that its HTTP handler
// goroutine writes out as RecordIO records. The master only appends; it never blocks on a
// slow scheduler.
type stream struct {
	id          string
	fwID        string
	number      int
	contentType string

	mu     sync.Mutex
	queue  [][]byte
	closed bool // no more events; the handler drains the queue and ends the response
	abort  bool // end without the terminating chunk, as if the connection broke
	signal chan struct{}
}

func newStream(fwID, contentType string, number int) *stream {
	return &stream{id: newUUID(), fwID: fwID, number: number, contentType: contentType, signal: make(chan struct{}, 1)}
}

func (s *stream) encode(ev *scheduler.Event) []byte {
	var b []byte
	var err error
	if s.contentType == mediaProtobuf {
		b, err = ev.Marshal()
	} else {
		b, err = json.Marshal(ev)
		b = stripNulls(b)
	}
	if err != nil {
		// The events are built by this package from valid messages; this cannot happen.
		panic("localmaster: encode event: " + err.Error())
	}
	rec := make([]byte, 0, len(b)+12)
	rec = strconv.AppendInt(rec, int64(len(b)), 10)
	rec = append(rec, '\n')
	return append(rec, b...)
}

// send queues an event; it is dropped if the stream is closed.
func (s *stream) send(ev *scheduler.Event) {
	rec := s.encode(ev)
	s.mu.Lock()
	if !s.closed {
		s.queue = append(s.queue, rec)
	}
	s.mu.Unlock()
	s.notify()
}

func (s *stream) notify() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// close ends the stream after the queued events are written; abort drops the connection
// without a clean end.
func (s *stream) close(abort bool) {
	s.mu.Lock()
	s.closed = true
	s.abort = s.abort || abort
	s.mu.Unlock()
	s.notify()
}

func (s *stream) take() (recs [][]byte, closed, abort bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, s.queue = s.queue, nil
	return recs, s.closed, s.abort
}

// serve writes the stream until it is closed or the client goes away. It runs on the
// SUBSCRIBE handler's goroutine.
func (m *Master) serveStream(w http.ResponseWriter, r *http.Request, s *stream) {
	h := w.Header()
	h.Set("Content-Type", s.contentType)
	h.Set("Mesos-Stream-Id", s.id)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	hb := time.NewTicker(m.cfg.Heartbeat)
	defer hb.Stop()
	heartbeat := s.encode(&scheduler.Event{Type: scheduler.Event_HEARTBEAT})
	for {
		recs, closed, abort := s.take()
		if abort {
			m.streamEnded(s, "dropped")
			if conn, _, err := rc.Hijack(); err == nil {
				_ = conn.Close()
			} else {
				panic(http.ErrAbortHandler)
			}
			return
		}
		for _, rec := range recs {
			if _, err := w.Write(rec); err != nil {
				m.streamEnded(s, "write failed")
				return
			}
		}
		if len(recs) > 0 {
			if err := rc.Flush(); err != nil {
				m.streamEnded(s, "write failed")
				return
			}
		}
		if closed {
			m.streamEnded(s, "closed by master")
			return
		}
		select {
		case <-s.signal:
		case <-hb.C:
			s.mu.Lock()
			if !s.closed {
				s.queue = append(s.queue, heartbeat)
			}
			s.mu.Unlock()
		case <-r.Context().Done():
			m.streamEnded(s, "connection closed")
			return
		}
	}
}

// streamEnded forgets a stream; if it was its framework's current one, the framework is
// now disconnected.
func (m *Master) streamEnded(s *stream, why string) {
	s.close(false)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.streams, s)
	fw := m.frameworks[s.fwID]
	if fw == nil || fw.stream != s {
		return
	}
	m.log.Info("framework disconnected", "framework_id", fw.id, "stream_id", s.id, "reason", why)
	m.disconnectLocked(fw)
}

// stripNulls drops `"key":null` members from JSON objects, keeping member order. mesos-go's
// generated encoder writes unset repeated fields as null; Mesos omits them.
func stripNulls(b []byte) []byte {
	if !bytes.Contains(b, []byte(":null")) {
		return b
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	type frame struct {
		object bool
		n      int // members or elements written
	}
	var stack []frame
	var pendingKey []byte
	writeValue := func(v []byte) {
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.n > 0 {
				out.WriteByte(',')
			}
			top.n++
			if top.object {
				out.Write(pendingKey)
				out.WriteByte(':')
			}
		}
		out.Write(v)
	}
	expectKey := func() bool {
		return len(stack) > 0 && stack[len(stack)-1].object && pendingKey == nil
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return out.Bytes()
			}
			return b
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				writeValue([]byte{byte(v)})
				pendingKey = nil
				stack = append(stack, frame{object: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				out.WriteByte(byte(v))
			}
			continue
		case string:
			enc, _ := json.Marshal(v)
			if expectKey() {
				pendingKey = enc
				continue
			}
			writeValue(enc)
		case nil:
			if len(stack) > 0 && stack[len(stack)-1].object {
				pendingKey = nil
				continue
			}
			writeValue([]byte("null"))
		case json.Number:
			writeValue([]byte(v.String()))
		case bool:
			writeValue([]byte(strconv.FormatBool(v)))
		}
		pendingKey = nil
	}
}
