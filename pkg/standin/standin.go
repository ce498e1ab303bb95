// Package standin serves a recorded tree of F1 upstream responses over HTTP,
// so tests and the demo run the real upstream client offline.
//
// The tree holds one folder per upstream host (testdata/f1/recorded), each
// file at its URL path; a query string is part of the file name as "__k-v"
// ("laps.json?limit=1200" is stored as "laps.json__limit-1200"). A request for
// "/<host>/<url path>" answers that file; anything not recorded answers 404,
// as the real hosts do for a session without data.
package standin

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the stand-in. Create it with New; use it either as an
// http.Handler or start its own listener with Start. Safe for concurrent use.
type Server struct {
	// Fault, when set before serving, is consulted first for every request
	// with n, the 1-based number of that request. If it returns ok, the
	// server answers status with header and a short text body instead of
	// the recorded file (fault injection: 5xx, 429 with Retry-After, ...).
	// Set it while no request is in flight; Fault itself must be safe for
	// concurrent calls. The request still counts in Requests/RequestsFor.
	Fault func(r *http.Request, n int64) (status int, header http.Header, ok bool)
	// Rewrite, when set before serving, may change a recorded body before
	// it is served (a truncated or garbled feed); it returns body itself
	// to leave it alone. The same rules as for Fault apply.
	Rewrite func(r *http.Request, body []byte) []byte

	dir      string
	root     *os.Root
	hosts    []string
	statuses map[string]int // slash path under dir -> recorded status (from MANIFEST.tsv)

	total  atomic.Int64
	mu     sync.Mutex
	byHost map[string]int64

	srv *http.Server
	ln  net.Listener

	limits     map[string]windowLimit
	times      map[string][]time.Time
	violations atomic.Int64
}

// windowLimit is an upstream quota the stand-in enforces like the real
// hosts: more than calls requests within any window get 429.
type windowLimit struct {
	calls  int
	window time.Duration
}

// Limit makes the stand-in enforce a sliding-window quota on host: a
// request that would be the calls+1-th within window is answered 429 with
// Retry-After and counted in Violations. Set it before serving.
func (s *Server) Limit(host string, calls int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits == nil {
		s.limits = map[string]windowLimit{}
	}
	s.limits[host] = windowLimit{calls: calls, window: window}
}

// Violations counts requests that broke a Limit.
func (s *Server) Violations() int64 { return s.violations.Load() }

// MaxInWindow returns the most requests host received within any window
// of the given length.
func (s *Server) MaxInWindow(host string, window time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.times[host]
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= window {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// overLimit records a request to host at now and reports whether it
// breaks host's limit.
func (s *Server) overLimit(host string, now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.times == nil {
		s.times = map[string][]time.Time{}
	}
	ts := append(s.times[host], now)
	s.times[host] = ts
	l, ok := s.limits[host]
	if !ok {
		return 0, false
	}
	in := 0
	for i := len(ts) - 1; i >= 0 && now.Sub(ts[i]) < l.window; i-- {
		in++
	}
	if in <= l.calls {
		return 0, false
	}
	return l.window, true
}

// New opens the recorded tree dir (one folder per host). It fails if dir is
// missing or not a directory. If MANIFEST.tsv is found in dir or its parent,
// its status column is honoured: a file recorded with status 404 is served as
// 404 with its recorded body. Without a manifest every file is served as 200.
func New(dir string) (*Server, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("standin: open %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("standin: open %s: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("standin: open %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("standin: list %s: %w", dir, err)
	}
	s := &Server{dir: dir, root: root, byHost: map[string]int64{}, statuses: map[string]int{}}
	for _, e := range entries {
		if e.IsDir() {
			s.hosts = append(s.hosts, e.Name())
		}
	}
	if err := s.loadManifest(); err != nil {
		root.Close()
		return nil, err
	}
	return s, nil
}

// loadManifest reads statuses from MANIFEST.tsv (columns url, status,
// decoded_path, ...; decoded_path is relative to the manifest's folder and
// starts with the tree's own folder name).
func (s *Server) loadManifest() error {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		return fmt.Errorf("standin: %w", err)
	}
	for _, cand := range []string{filepath.Join(abs, "MANIFEST.tsv"), filepath.Join(filepath.Dir(abs), "MANIFEST.tsv")} {
		f, err := os.Open(cand)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("standin: manifest: %w", err)
		}
		defer f.Close()
		base := filepath.Dir(cand)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if len(cols) < 3 {
				continue
			}
			code, err := strconv.Atoi(cols[1])
			if err != nil { // header line
				continue
			}
			rel, err := filepath.Rel(abs, filepath.Join(base, filepath.FromSlash(cols[2])))
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			s.statuses[filepath.ToSlash(rel)] = code
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("standin: manifest %s: %w", cand, err)
		}
		return nil
	}
	return nil
}

// Start listens on 127.0.0.1 on a free port and serves in the background
// until Close.
func (s *Server) Start() error {
	if s.srv != nil {
		return errors.New("standin: already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("standin: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	return nil
}

// URL returns the base URL of the started server ("http://127.0.0.1:PORT"),
// or "" before Start.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// BaseURLs maps every host folder of the tree to URL()+"/"+host, ready for
// upstream.Config.BaseURLs.
func (s *Server) BaseURLs() map[string]string {
	m := make(map[string]string, len(s.hosts))
	for _, h := range s.hosts {
		m[h] = s.URL() + "/" + h
	}
	return m
}

// Requests returns the number of requests answered, whatever their status.
func (s *Server) Requests() int64 { return s.total.Load() }

// RequestsFor returns the number of requests answered for host (the first
// path segment), whatever their status.
func (s *Server) RequestsFor(host string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byHost[host]
}

// Close stops the listener (if started) and releases the tree.
func (s *Server) Close() error {
	var err error
	if s.srv != nil {
		err = s.srv.Close()
	}
	if cerr := s.root.Close(); err == nil {
		err = cerr
	}
	return err
}

// ServeHTTP answers GET and HEAD for "/<host>/<url path>[?query]" from the
// recorded tree: 200 (or the recorded status) with Content-Type
// application/json, 404 for anything not recorded, 400 for paths trying to
// leave the tree, 405 for other methods.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.total.Add(1)
	host, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.mu.Lock()
	s.byHost[host]++
	s.mu.Unlock()

	if wait, over := s.overLimit(host, time.Now()); over {
		s.violations.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		http.Error(w, "standin: quota exceeded", http.StatusTooManyRequests)
		return
	}
	if s.Fault != nil {
		if code, hdr, ok := s.Fault(r, n); ok {
			for k, vs := range hdr {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			http.Error(w, fmt.Sprintf("standin: injected fault %d", code), code)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "standin: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	name, ok := fileName(host, rest, r.URL.RawQuery)
	if !ok {
		http.Error(w, "standin: bad path", http.StatusBadRequest)
		return
	}
	body, err := s.root.ReadFile(name)
	if err != nil {
		http.Error(w, "standin: not recorded: "+r.URL.RequestURI(), http.StatusNotFound)
		return
	}
	if s.Rewrite != nil {
		body = s.Rewrite(r, body)
	}
	code := http.StatusOK
	if c, ok := s.statuses[name]; ok {
		code = c
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

// fileName maps a request to its slash-separated file name in the tree, or
// reports false for a path that is empty or tries to escape.
func fileName(host, rest, rawQuery string) (string, bool) {
	if host == "" || rest == "" {
		return "", false
	}
	segs := append([]string{host}, strings.Split(rest, "/")...)
	for _, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\\\x00") {
			return "", false
		}
	}
	name := strings.Join(segs, "/")
	if rawQuery != "" {
		for _, kv := range strings.Split(rawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil || strings.ContainsAny(k+v, "/\\\x00") {
				return "", false
			}
			name += "__" + k + "-" + v
		}
	}
	return name, true
}
