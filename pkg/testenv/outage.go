package testenv

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Outage is a TCP proxy in front of a real server (PostgreSQL, say) that
// a test can take down and bring back: Cut refuses new connections and
// cuts the open ones, as a crashed or unreachable server does; Heal
// accepts and forwards again. It stops when the test ends.
type Outage struct {
	t      testing.TB
	target string // host:port of the real server
	addr   string // host:port the proxy listens on

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewOutage starts a proxy to the server of rawURL (a postgres:// URL or
// any URL with a host:port) and returns it; URL is rawURL through it.
func NewOutage(t testing.TB, rawURL string) *Outage {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Fatalf("testenv: outage proxy: %q is not a URL with a host: %v", rawURL, err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: outage proxy: listen: %v", err)
	}
	o := &Outage{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	o.serve(ln)
	t.Cleanup(o.stop)
	return o
}

// URL returns rawURL with its host replaced by the proxy's.
func (o *Outage) URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		o.t.Fatalf("testenv: outage proxy: %q is not a URL: %v", rawURL, err)
	}
	u.Host = o.addr
	return u.String()
}

// Cut takes the server away: new connections are refused and every open
// one is closed.
func (o *Outage) Cut() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		_ = o.ln.Close()
		o.ln = nil
	}
	for c := range o.conns {
		_ = c.Close()
	}
}

// Heal brings the server back on the same address.
func (o *Outage) Heal() {
	o.t.Helper()
	o.mu.Lock()
	up := o.ln != nil
	o.mu.Unlock()
	if up {
		return
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		o.t.Fatalf("testenv: outage proxy: listen again on %s: %v", o.addr, err)
	}
	o.serve(ln)
}

// Down reports whether the proxy is cut.
func (o *Outage) Down() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ln == nil
}

func (o *Outage) serve(ln net.Listener) {
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut or stop
			}
			o.forward(c)
		}
	}()
}

// forward pipes c to a new connection to the target, both ways.
func (o *Outage) forward(c net.Conn) {
	up, err := net.Dial("tcp", o.target)
	if err != nil {
		_ = c.Close()
		return
	}
	o.mu.Lock()
	if o.ln == nil { // cut while dialling
		o.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	o.conns[c], o.conns[up] = struct{}{}, struct{}{}
	o.mu.Unlock()
	var once sync.Once
	done := func() {
		once.Do(func() {
			_ = c.Close()
			_ = up.Close()
			o.mu.Lock()
			delete(o.conns, c)
			delete(o.conns, up)
			o.mu.Unlock()
		})
	}
	o.wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer o.wg.Done()
		defer done()
		if _, err := io.Copy(dst, src); err != nil && !errors.Is(err, net.ErrClosed) {
			return
		}
	}
	go pipe(up, c)
	go pipe(c, up)
}

func (o *Outage) stop() {
	o.Cut()
	o.wg.Wait()
}
