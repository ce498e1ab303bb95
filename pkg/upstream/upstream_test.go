package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHost is one httptest server standing in for a host, answering with the
// handlers in turn (the last one repeats) and counting requests.
type fakeHost struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func newFakeHost(t *testing.T, handlers ...http.HandlerFunc) *fakeHost {
	t.Helper()
	f := &fakeHost{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.hits.Add(1))
		if n > len(handlers) {
			n = len(handlers)
		}
		handlers[n-1](w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func testClient(primary, mirror *fakeHost, mod func(*Config)) *Client {
	cfg := Config{BaseURLs: map[string]string{}, RetryBackoff: time.Millisecond, Timeout: 2 * time.Second}
	if primary != nil {
		cfg.BaseURLs[LiveTiming] = primary.srv.URL + "/"
		cfg.BaseURLs[Jolpica] = primary.srv.URL
	}
	if mirror != nil {
		cfg.BaseURLs[Mirror] = mirror.srv.URL
	}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg, nil)
}

func TestGet(t *testing.T) {
	ok := status(200, `{"ok":true}`)
	tests := []struct {
		name        string
		host        string
		primary     []http.HandlerFunc
		mirror      []http.HandlerFunc
		cfg         func(*Config)
		wantStatus  int
		wantBody    string
		wantOrigin  string
		wantCalls   int
		wantPrimary int64
		wantMirror  int64
		wantErrOp   string // "" = no *Error expected
		wantRate    time.Duration
		wantErrText string
	}{
		{name: "primary answers", host: LiveTiming, primary: []http.HandlerFunc{ok}, mirror: []http.HandlerFunc{ok},
			wantStatus: 200, wantBody: `{"ok":true}`, wantOrigin: LiveTiming, wantCalls: 1, wantPrimary: 1},
		{name: "mirror fallback on 403", host: LiveTiming, primary: []http.HandlerFunc{status(403, "no")}, mirror: []http.HandlerFunc{ok},
			wantStatus: 200, wantBody: `{"ok":true}`, wantOrigin: Mirror, wantCalls: 2, wantPrimary: 1, wantMirror: 1},
		{name: "404 on both is definitive", host: LiveTiming, primary: []http.HandlerFunc{status(404, "nf")}, mirror: []http.HandlerFunc{status(404, "nf")},
			wantStatus: 404, wantOrigin: Mirror, wantCalls: 2, wantPrimary: 1, wantMirror: 1},
		{name: "404 on non-livetiming host has no fallback", host: Jolpica, primary: []http.HandlerFunc{status(404, "nf")}, mirror: []http.HandlerFunc{ok},
			wantStatus: 404, wantOrigin: Jolpica, wantCalls: 1, wantPrimary: 1},
		{name: "5xx retried then success", host: Jolpica, primary: []http.HandlerFunc{status(502, ""), status(500, ""), ok},
			wantStatus: 200, wantBody: `{"ok":true}`, wantOrigin: Jolpica, wantCalls: 3, wantPrimary: 3},
		{name: "5xx exhausted", host: Jolpica, primary: []http.HandlerFunc{status(502, "")},
			wantCalls: 3, wantPrimary: 3, wantErrOp: "status", wantErrText: "server answered 502 three times; the source may be down, try again later"},
		{name: "5xx exhausted on primary then mirror answers", host: LiveTiming, primary: []http.HandlerFunc{status(503, "")}, mirror: []http.HandlerFunc{ok},
			wantStatus: 200, wantBody: `{"ok":true}`, wantOrigin: Mirror, wantCalls: 4, wantPrimary: 3, wantMirror: 1},
		{name: "429 seconds", host: LiveTiming, primary: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}}, mirror: []http.HandlerFunc{ok}, wantCalls: 1, wantPrimary: 1, wantRate: 7 * time.Second},
		{name: "429 http date", host: Jolpica, primary: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
		}}, wantCalls: 1, wantPrimary: 1, wantRate: 90 * time.Second},
		{name: "503 with Retry-After is rate limiting", host: Jolpica, primary: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(503)
		}}, wantCalls: 1, wantPrimary: 1, wantRate: 3 * time.Second},
		{name: "body too large", host: Jolpica, primary: []http.HandlerFunc{status(200, strings.Repeat("x", 100))},
			cfg: func(c *Config) { c.MaxBodyBytes = 50 }, wantCalls: 1, wantPrimary: 1, wantErrOp: "too large"},
		{name: "chunked body too large", host: Jolpica, primary: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 10; i++ {
				fmt.Fprint(w, strings.Repeat("y", 10))
				w.(http.Flusher).Flush()
			}
		}}, cfg: func(c *Config) { c.MaxBodyBytes = 50 }, wantCalls: 1, wantPrimary: 1, wantErrOp: "too large"},
		{name: "truncated body retried", host: Jolpica, primary: []http.HandlerFunc{truncated, ok},
			wantStatus: 200, wantBody: `{"ok":true}`, wantOrigin: Jolpica, wantCalls: 2, wantPrimary: 2},
		{name: "truncated body exhausted", host: Jolpica, primary: []http.HandlerFunc{truncated},
			cfg: func(c *Config) { c.Retries = 1 }, wantCalls: 2, wantPrimary: 2, wantErrOp: "read", wantErrText: "twice"},
		{name: "timeout", host: Jolpica, primary: []http.HandlerFunc{slow},
			cfg: func(c *Config) { c.Timeout = 50 * time.Millisecond; c.Retries = 1 }, wantCalls: 2, wantPrimary: 2, wantErrOp: "request"},
		{name: "gzip decoded", host: Jolpica, primary: []http.HandlerFunc{gzipped(`{"z":1}`)},
			wantStatus: 200, wantBody: `{"z":1}`, wantOrigin: Jolpica, wantCalls: 1, wantPrimary: 1},
		{name: "no retries when negative", host: Jolpica, primary: []http.HandlerFunc{status(500, "")},
			cfg: func(c *Config) { c.Retries = -1 }, wantCalls: 1, wantPrimary: 1, wantErrOp: "status", wantErrText: "answered 500 once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := newFakeHost(t, tt.primary...)
			var mirror *fakeHost
			if tt.mirror != nil {
				mirror = newFakeHost(t, tt.mirror...)
			}
			c := testClient(primary, mirror, tt.cfg)
			resp, err := c.Get(context.Background(), tt.host, "/static/2019/Index.json")
			if resp == nil {
				t.Fatal("nil response")
			}
			if resp.Calls != tt.wantCalls || c.Calls() != int64(tt.wantCalls) {
				t.Errorf("calls: response %d, client %d, want %d", resp.Calls, c.Calls(), tt.wantCalls)
			}
			if got := primary.hits.Load(); got != tt.wantPrimary {
				t.Errorf("primary hits %d, want %d", got, tt.wantPrimary)
			}
			if mirror != nil && mirror.hits.Load() != tt.wantMirror {
				t.Errorf("mirror hits %d, want %d", mirror.hits.Load(), tt.wantMirror)
			}
			var ue *Error
			var rl *RateLimitedError
			switch {
			case tt.wantRate != 0:
				if !errors.As(err, &rl) {
					t.Fatalf("err = %v, want *RateLimitedError", err)
				}
				if d := rl.RetryAfter - tt.wantRate; d < -2*time.Second || d > 2*time.Second {
					t.Errorf("RetryAfter %s, want ~%s", rl.RetryAfter, tt.wantRate)
				}
			case tt.wantErrOp != "":
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want *Error", err)
				}
				if ue.Op != tt.wantErrOp {
					t.Errorf("Op %q, want %q (%v)", ue.Op, tt.wantErrOp, err)
				}
				if !strings.Contains(err.Error(), tt.wantErrText) {
					t.Errorf("error %q does not contain %q", err, tt.wantErrText)
				}
			default:
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if resp.Status != tt.wantStatus || resp.Origin != tt.wantOrigin {
					t.Errorf("status %d origin %q, want %d %q", resp.Status, resp.Origin, tt.wantStatus, tt.wantOrigin)
				}
				if tt.wantStatus == 200 && string(resp.Body) != tt.wantBody {
					t.Errorf("body %q, want %q", resp.Body, tt.wantBody)
				}
				if resp.Host != tt.host || resp.Path != "/static/2019/Index.json" {
					t.Errorf("host/path %q %q", resp.Host, resp.Path)
				}
			}
		})
	}
}

// truncated promises 100 bytes and sends 10.
func truncated(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n0123456789")
	buf.Flush()
}

func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(2 * time.Second):
	}
}

func gzipped(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "want gzip", 400)
			return
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body))
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(b.Bytes())
	}
}

func TestHeadersAndURL(t *testing.T) {
	var ua, ae string
	h := newFakeHost(t, func(w http.ResponseWriter, r *http.Request) {
		ua, ae = r.UserAgent(), r.Header.Get("Accept-Encoding")
		if r.URL.RequestURI() != "/ergast/f1/2023/1/laps.json?limit=1200" {
			http.Error(w, r.URL.RequestURI(), 400)
		}
	})
	c := testClient(h, nil, nil)
	resp, err := c.Get(context.Background(), Jolpica, "/ergast/f1/2023/1/laps.json?limit=1200")
	if err != nil || resp.Status != 200 {
		t.Fatalf("status %d err %v", resp.Status, err)
	}
	if ua != DefaultUserAgent || !strings.Contains(ae, "gzip") {
		t.Errorf("headers UA %q AE %q", ua, ae)
	}
	if got := c.URL(GitHubRaw, "x/y.json"); got != "https://raw.githubusercontent.com/x/y.json" {
		t.Errorf("default URL %q", got)
	}
	if got := c.URL(LiveTiming, "/static/2019/Index.json"); got != h.srv.URL+"/static/2019/Index.json" {
		t.Errorf("configured URL %q (trailing slash must be trimmed)", got)
	}
}

type countingGate struct {
	n   atomic.Int64
	err error
}

func (g *countingGate) Acquire(ctx context.Context, host string) error {
	g.n.Add(1)
	return g.err
}

func TestGate(t *testing.T) {
	tests := []struct {
		name      string
		gateErr   error
		wantGate  int64
		wantCalls int
		wantErr   bool
	}{
		{name: "consulted before each request incl mirror", wantGate: 2, wantCalls: 2},
		{name: "gate error aborts", gateErr: errors.New("closed"), wantGate: 1, wantCalls: 0, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeHost(t, status(404, ""))
			m := newFakeHost(t, status(200, "{}"))
			g := &countingGate{err: tt.gateErr}
			c := New(Config{BaseURLs: map[string]string{LiveTiming: p.srv.URL, Mirror: m.srv.URL}}, g)
			resp, err := c.Get(context.Background(), LiveTiming, "/a")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if g.n.Load() != tt.wantGate || resp.Calls != tt.wantCalls {
				t.Errorf("gate %d calls %d, want %d %d", g.n.Load(), resp.Calls, tt.wantGate, tt.wantCalls)
			}
		})
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	h := newFakeHost(t, status(500, ""))
	c := testClient(h, nil, func(c *Config) { c.RetryBackoff = time.Hour; c.Retries = 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := c.Get(ctx, Jolpica, "/x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if time.Since(start) > 5*time.Second || resp.Calls != 1 {
		t.Errorf("took %s, calls %d", time.Since(start), resp.Calls)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"seconds", "120", 2 * time.Minute},
		{"http date", now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"empty", "", 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("got %s want %s", got, tt.want)
			}
		})
	}
}
