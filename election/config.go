package election

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"time"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid election config")

// DefaultSessionTimeout is the ZooKeeper session timeout unless configured: 10 s. It bounds
// failover after a leader crashes (kill -9: its node goes when its session expires), so it is
// kept short; it must stay well above GC pauses and network hiccups, or a healthy leader is
// deposed for nothing. ZooKeeper itself clamps it to [2, 20] ticks of the server's tickTime.
const DefaultSessionTimeout = 10 * time.Second

// Config configures a Client.
type Config struct {
	// Servers are the ZooKeeper servers, host:port.
	Servers []string
	// Root is the chroot taken from the zk:// URL, e.g. /relay-mesos/queue-consumers. Every node
	// the project creates lives under it.
	Root string
	// SessionTimeout (default DefaultSessionTimeout).
	SessionTimeout time.Duration
	// DisconnectBound: a leader whose connection has been lost this long gives leadership up,
	// without waiting to learn that its session expired (default SessionTimeout / 3).
	DisconnectBound time.Duration
	// ID identifies this candidate (unique among candidates; e.g. its host:port).
	ID string
	// Address is published to followers so that they can point to the leader.
	Address string
	// Auth is "user:password" for ZooKeeper digest auth; with it every node created gets an ACL
	// that lets only that identity write (and everyone read). Empty: open ACL.
	Auth string
}

// ParseURL splits zk://host1:2181,host2:2181/chroot into servers and the chroot.
func ParseURL(raw string) (servers []string, root string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "zk" {
		return nil, "", fmt.Errorf("%w: %q is not a zk://host:port,.../path URL", ErrConfig, raw)
	}
	if u.User != nil {
		return nil, "", fmt.Errorf("%w: put ZooKeeper credentials in the auth file, not in the URL", ErrConfig)
	}
	for _, h := range strings.Split(u.Host, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "2181")
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("%w: %q names no server", ErrConfig, raw)
	}
	root = path.Clean("/" + u.Path)
	if root == "/" {
		return nil, "", fmt.Errorf("%w: %q needs a path (e.g. zk://host:2181/relay-mesos/NAME) so replicas of different thermostats do not share an election", ErrConfig, raw)
	}
	return servers, root, nil
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.DisconnectBound == 0 {
		c.DisconnectBound = c.SessionTimeout / 3
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case len(c.Servers) == 0:
		return fmt.Errorf("%w: no ZooKeeper server", ErrConfig)
	case !strings.HasPrefix(c.Root, "/") || c.Root == "/":
		return fmt.Errorf("%w: root %q must be an absolute path below /", ErrConfig, c.Root)
	case c.SessionTimeout < 500*time.Millisecond:
		return fmt.Errorf("%w: session timeout %v is too short", ErrConfig, c.SessionTimeout)
	case c.DisconnectBound <= 0 || c.DisconnectBound >= c.SessionTimeout:
		return fmt.Errorf("%w: disconnect bound %v must be > 0 and below the session timeout %v", ErrConfig, c.DisconnectBound, c.SessionTimeout)
	case c.ID == "":
		return fmt.Errorf("%w: candidate id is empty", ErrConfig)
	case c.Auth != "" && !strings.Contains(c.Auth, ":"):
		return fmt.Errorf("%w: auth must be user:password", ErrConfig)
	}
	return nil
}
