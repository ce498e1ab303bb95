package standin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/upstream"
)

const recorded = "../../testdata/f1/recorded"

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(recorded)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestServeHTTP(t *testing.T) {
	s := newServer(t)
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(recorded, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantBody   string // exact; "" = don't check
		wantSub    string // substring of body
	}{
		{name: "recorded Index.json byte exact", target: "/livetiming.formula1.com/static/2019/Index.json",
			wantStatus: 200, wantBody: read("livetiming.formula1.com/static/2019/Index.json")},
		{name: "recorded jsonStream byte exact", target: "/livetiming.formula1.com/static/2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/WeatherData.jsonStream",
			wantStatus: 200, wantBody: read("livetiming.formula1.com/static/2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/WeatherData.jsonStream")},
		{name: "query mapped to file suffix", target: "/api.jolpi.ca/ergast/f1/2023/1/laps.json?limit=1200",
			wantStatus: 200, wantBody: read("api.jolpi.ca/ergast/f1/2023/1/laps.json__limit-1200")},
		{name: "recorded 404 keeps status and body", target: "/api.multiviewer.app/api/v1/circuits/0/2020",
			wantStatus: 404, wantBody: "Circuit not found"},
		{name: "unknown file", target: "/livetiming.formula1.com/static/2022/Index.json", wantStatus: 404, wantSub: "not recorded"},
		{name: "unknown host", target: "/example.com/x", wantStatus: 404},
		{name: "directory is not a file", target: "/livetiming.formula1.com/static/2019", wantStatus: 404},
		{name: "unrecorded query", target: "/api.jolpi.ca/ergast/f1/2023/1/laps.json?limit=30", wantStatus: 404},
		{name: "HEAD has no body", method: http.MethodHead, target: "/api.jolpi.ca/ergast/f1/2019.json", wantStatus: 200, wantBody: ""},
		{name: "POST refused", method: http.MethodPost, target: "/api.jolpi.ca/ergast/f1/2019.json", wantStatus: 405},
		{name: "traversal dotdot", target: "/api.jolpi.ca/../../MANIFEST.tsv", wantStatus: 400},
		{name: "traversal encoded", target: "/api.jolpi.ca/%2e%2e/%2e%2e/README.md", wantStatus: 400},
		{name: "traversal encoded slash", target: "/api.jolpi.ca/..%2f..%2fREADME.md", wantStatus: 400},
		{name: "traversal in query", target: "/api.jolpi.ca/ergast/f1/2019.json?a=%2f..%2f..", wantStatus: 400},
		{name: "root", target: "/", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.method
			if m == "" {
				m = http.MethodGet
			}
			req := httptest.NewRequest(m, "http://standin"+tt.target, nil)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d want %d (body %q)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus == 200 || tt.wantBody != "" {
				if got := rec.Body.String(); got != tt.wantBody {
					t.Errorf("body differs: got %d bytes, want %d", len(got), len(tt.wantBody))
				}
			}
			if !strings.Contains(rec.Body.String(), tt.wantSub) {
				t.Errorf("body %q lacks %q", rec.Body.String(), tt.wantSub)
			}
			if tt.wantStatus == 200 && rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		name  string
		host  string
		rest  string
		query string
		want  string
		ok    bool
	}{
		{"plain", "h", "a/b.json", "", "h/a/b.json", true},
		{"one param", "h", "a.json", "limit=1200", "h/a.json__limit-1200", true},
		{"params in order given", "h", "a.json", "offset=30&limit=30", "h/a.json__offset-30__limit-30", true},
		{"empty segment", "h", "a//b", "", "", false},
		{"no path", "h", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fileName(tt.host, tt.rest, tt.query)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q %v want %q %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCountsAndFault(t *testing.T) {
	s := newServer(t)
	s.Fault = func(r *http.Request, n int64) (int, http.Header, bool) {
		if n == 2 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"5"}}, true
		}
		return 0, nil, false
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	get := func(p string) *http.Response {
		res, err := http.Get(s.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if r := get("/api.jolpi.ca/ergast/f1/2019.json"); r.StatusCode != 200 {
		t.Errorf("first: %d", r.StatusCode)
	}
	if r := get("/api.jolpi.ca/ergast/f1/2019.json"); r.StatusCode != 429 || r.Header.Get("Retry-After") != "5" {
		t.Errorf("fault: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := get("/livetiming.formula1.com/nope"); r.StatusCode != 404 {
		t.Errorf("third: %d", r.StatusCode)
	}
	if s.Requests() != 3 || s.RequestsFor(upstream.Jolpica) != 2 || s.RequestsFor(upstream.LiveTiming) != 1 || s.RequestsFor(upstream.Mirror) != 0 {
		t.Errorf("counts total %d jolpica %d livetiming %d", s.Requests(), s.RequestsFor(upstream.Jolpica), s.RequestsFor(upstream.LiveTiming))
	}
}

// TestWithUpstreamClient runs the real client against the stand-in: the 2022
// Index.json exists only on the mirror, so it costs two calls.
func TestWithUpstreamClient(t *testing.T) {
	s := newServer(t)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	base := s.BaseURLs()
	for _, h := range []string{upstream.LiveTiming, upstream.Mirror, upstream.Jolpica, upstream.MultiViewer, upstream.GitHubRaw} {
		if base[h] != s.URL()+"/"+h {
			t.Errorf("BaseURLs[%s] = %q", h, base[h])
		}
	}
	c := upstream.New(upstream.Config{BaseURLs: base, RetryBackoff: time.Millisecond}, nil)
	ctx := context.Background()

	resp, err := c.Get(ctx, upstream.LiveTiming, "/static/2022/Index.json")
	if err != nil || resp.Status != 200 || resp.Origin != upstream.Mirror || resp.Calls != 2 {
		t.Fatalf("2022 index: %+v err %v", resp, err)
	}
	resp, err = c.Get(ctx, upstream.MultiViewer, "/api/v1/circuits/0/2020")
	if err != nil || resp.Status != 404 || resp.Calls != 1 {
		t.Fatalf("recorded 404: status %d calls %d err %v", resp.Status, resp.Calls, err)
	}
	s.Fault = func(r *http.Request, n int64) (int, http.Header, bool) { return 502, nil, true }
	_, err = c.Get(ctx, upstream.Jolpica, "/ergast/f1/2019.json")
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.StatusCode != 502 {
		t.Fatalf("fault: %v", err)
	}
	if c.Calls() != 6 || s.Requests() != 6 {
		t.Errorf("calls %d, stand-in requests %d, want 6", c.Calls(), s.Requests())
	}
}

func TestNewMissingDir(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Fatal("want error for missing dir")
	}
}
