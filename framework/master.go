package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/hashicorp/go-hclog"
)

// masterResolver turns --master into the URL of the master to subscribe to.
type masterResolver struct {
	raw string
	log hclog.Logger
}

// resolve returns the base URL (scheme://host:port) of the master to call now.
func (m masterResolver) resolve(ctx context.Context) (string, error) {
	zkURL, base, err := parseMaster(m.raw)
	if err != nil {
		return "", err
	}
	if zkURL {
		return leaderFromZK(ctx, base, m.log)
	}
	return base, nil
}

// parseMaster checks the form of --master: for zk://host:port,.../path it returns zk and the
// URL, otherwise the base URL scheme://host:port.
func parseMaster(raw string) (zkURL bool, base string, err error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string) (bool, string, error) {
		return false, "", fmt.Errorf("%w: master %q: %s (want host:port, http(s)://host:port or zk://host:port,.../path)", ErrConfig, raw, why)
	}
	scheme, _, hasScheme := strings.Cut(raw, "://")
	switch {
	case raw == "":
		return bad("empty")
	case scheme == "zk":
		u, err := url.Parse(raw)
		if err != nil {
			return bad(err.Error())
		}
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return bad("no ZooKeeper servers or no path")
		}
		for _, h := range strings.Split(u.Host, ",") {
			if h == "" {
				return bad("empty ZooKeeper server")
			}
		}
		return true, raw, nil
	case scheme == "http" || scheme == "https":
		u, err := url.Parse(raw)
		if err != nil {
			return bad(err.Error())
		}
		if u.Host == "" || u.Hostname() == "" {
			return bad("no host")
		}
		return false, u.Scheme + "://" + u.Host, nil
	case hasScheme:
		return bad("unknown scheme")
	}
	if h, p, err := net.SplitHostPort(raw); err != nil || h == "" || p == "" {
		return bad("not host:port")
	}
	if _, err := net.LookupPort("tcp", raw[strings.LastIndexByte(raw, ':')+1:]); err != nil {
		return bad("bad port")
	}
	return false, "http://" + raw, nil
}

// masterInfoJSON is the JSON MasterInfo the Mesos masters publish under their zk path.
type masterInfoJSON struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Address  struct {
		Hostname string `json:"hostname"`
		IP       string `json:"ip"`
		Port     int    `json:"port"`
	} `json:"address"`
}

// leaderFromZK reads <path>/json.info_<seq> nodes and returns the lowest sequence's address.
func leaderFromZK(ctx context.Context, raw string, log hclog.Logger) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Path == "" {
		return "", fmt.Errorf("%w: master %q is not zk://host:port,.../path", ErrConfig, raw)
	}
	var servers []string
	for _, h := range strings.Split(u.Host, ",") {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "2181")
		}
		servers = append(servers, h)
	}
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(zkQuiet{log}))
	if err != nil {
		return "", fmt.Errorf("mesos master detection: %w", err)
	}
	defer conn.Close()
	type result struct {
		addr string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		children, _, err := conn.Children(u.Path)
		if err != nil {
			ch <- result{err: fmt.Errorf("mesos master detection: list %s: %w", u.Path, err)}
			return
		}
		type cand struct {
			seq  int64
			name string
		}
		var cs []cand
		for _, c := range children {
			if rest, ok := strings.CutPrefix(c, "json.info_"); ok {
				if n, err := strconv.ParseInt(rest, 10, 64); err == nil {
					cs = append(cs, cand{n, c})
				}
			}
		}
		if len(cs) == 0 {
			ch <- result{err: fmt.Errorf("mesos master detection: no json.info_ nodes under %s (no leading master)", u.Path)}
			return
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].seq < cs[j].seq })
		data, _, err := conn.Get(u.Path + "/" + cs[0].name)
		if err != nil {
			ch <- result{err: fmt.Errorf("mesos master detection: %w", err)}
			return
		}
		var mi masterInfoJSON
		if err := json.Unmarshal(data, &mi); err != nil {
			ch <- result{err: fmt.Errorf("mesos master detection: %s: %w", cs[0].name, err)}
			return
		}
		host, port := mi.Address.IP, mi.Address.Port
		if host == "" {
			host = mi.Address.Hostname
		}
		if host == "" {
			host = mi.Hostname
		}
		if port == 0 {
			port = mi.Port
		}
		if host == "" || port == 0 {
			ch <- result{err: fmt.Errorf("mesos master detection: %s has no address", cs[0].name)}
			return
		}
		ch <- result{addr: "http://" + net.JoinHostPort(host, strconv.Itoa(port))}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		return r.addr, r.err
	}
}

type zkQuiet struct{ l hclog.Logger }

func (z zkQuiet) Printf(format string, args ...interface{}) {
	if z.l != nil {
		z.l.Debug(fmt.Sprintf(format, args...))
	}
}
