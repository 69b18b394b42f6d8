package election

import (
	"net"
	"time"
)

// boundedDialer dials ZooKeeper with connections whose read and write deadlines are never
// further than bound ahead. go-zookeeper waits ten times its receive timeout (two thirds of
// the session timeout) for the answer to a session handshake: 26.7 s for a session of 4 s.
// A server that takes the connection but does not answer (one still starting after a
// restart) held every replica's reconnection for those 26.7 s, the sessions expired
// meanwhile, and no replica could lead (TestChaosQuick, after a restart of its one
// server). An answer later than the session timeout finds the session expired anyway, so
// the handshake is given up at that bound and the next attempt is made.
func boundedDialer(bound time.Duration) func(network, address string, timeout time.Duration) (net.Conn, error) {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := net.DialTimeout(network, address, timeout)
		if err != nil {
			return nil, err
		}
		return boundedConn{Conn: c, bound: bound}, nil
	}
}

// boundedConn caps the deadlines set on it at bound from now (a zero deadline, none, stays).
type boundedConn struct {
	net.Conn
	bound time.Duration
}

func (c boundedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.cap(t)) }
func (c boundedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.cap(t)) }
func (c boundedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.cap(t)) }

func (c boundedConn) cap(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if limit := time.Now().Add(c.bound); t.After(limit) {
		return limit
	}
	return t
}
