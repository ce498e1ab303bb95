// Package upstream is the HTTP client for every public F1 data source paddock
// reads: the live-timing static archive (with its FastF1 mirror), Jolpica-F1,
// MultiViewer and FastF1's schedule files on GitHub.
//
// The client retries transient failures (5xx, timeouts, connection errors,
// truncated bodies) with exponential backoff, falls back from the live-timing
// archive to its mirror exactly as FastF1 does, reports rate limiting as a typed
// error without retrying, and counts every real HTTP request it makes.
package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paddock-f1/paddock/pkg/metrics"
)

// Logical upstream hosts. Callers name a host and a URL path; the client maps
// the host to a base URL through Config.BaseURLs.
const (
	// LiveTiming is the primary F1 live-timing static archive.
	LiveTiming = "livetiming.formula1.com"
	// Mirror is FastF1's copy of the live-timing archive; it is tried once
	// whenever LiveTiming answers with a status >= 400 (or cannot be reached).
	Mirror = "livetiming-mirror.fastf1.dev"
	// Jolpica is the Jolpica-F1 API (the Ergast successor).
	Jolpica = "api.jolpi.ca"
	// MultiViewer serves circuit layouts (corners, marshal lights and sectors).
	MultiViewer = "api.multiviewer.app"
	// GitHubRaw serves FastF1's f1schedule season files.
	GitHubRaw = "raw.githubusercontent.com"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 64 << 20
	DefaultRetries      = 2
	DefaultRetryBackoff = 500 * time.Millisecond
	DefaultUserAgent    = "paddock/0.1 (+https://github.com/paddock-f1/paddock)"
)

// Config configures a Client. The zero value is usable: every zero field gets
// the default documented on it.
type Config struct {
	// BaseURLs maps a logical host to a base URL without trailing slash, e.g.
	// "http://127.0.0.1:4000/livetiming.formula1.com" for the stand-in. A host
	// missing from the map defaults to "https://"+host.
	BaseURLs map[string]string
	// Timeout bounds one HTTP request including reading its body; default 30s.
	Timeout time.Duration
	// MaxBodyBytes is the largest accepted body (after gzip decoding); default
	// 64 MiB. A larger body fails with Op "too large" and is not retried.
	MaxBodyBytes int64
	// Retries is the number of extra attempts after a transient failure (5xx,
	// timeout, connection error, truncated body); default 2. Set a negative
	// value for no retries.
	Retries int
	// RetryBackoff is the wait before the first retry; it doubles for each
	// further retry and gets up to 50% random jitter added; default 500ms.
	RetryBackoff time.Duration
	// UserAgent is sent with every request; default DefaultUserAgent.
	UserAgent string
}

// Gate is consulted before every single HTTP request the client makes (a rate
// governor implements it). Acquire blocks until a request to host may be sent;
// an error aborts the Get and is returned wrapped.
type Gate interface {
	Acquire(ctx context.Context, host string) error
}

// Client fetches URLs from the F1 sources. It is safe for concurrent use.
type Client struct {
	cfg   Config
	gate  Gate
	http  *http.Client
	calls atomic.Int64
}

// New returns a Client for cfg (zero fields defaulted). gate may be nil, in
// which case requests are not gated.
func New(cfg Config, gate Gate) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	base := make(map[string]string, len(cfg.BaseURLs))
	for h, u := range cfg.BaseURLs {
		base[h] = strings.TrimRight(u, "/")
	}
	cfg.BaseURLs = base
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// We ask for gzip ourselves and decode it in read, so the transport must
	// not decode (and hide Content-Encoding) on its own.
	tr.DisableCompression = true
	return &Client{cfg: cfg, gate: gate, http: &http.Client{Transport: tr}}
}

// Response is the definitive answer to a Get.
type Response struct {
	Host   string // logical host asked for (LiveTiming even if the mirror answered)
	Path   string // URL path including query, as asked
	Origin string // host that gave the final answer (Mirror when the fallback answered)
	Status int    // final HTTP status: 2xx, or the definitive 4xx when no source has the URL
	Body   []byte // decoded body (gzip removed); on a 4xx the server's error text
	Calls  int    // real HTTP requests this Get made (primary + mirror + retries)
}

// Error is a failed Get after retries were exhausted, or a failure that is not
// worth retrying (body too large).
type Error struct {
	URL        string // the URL of the last attempt
	Op         string // "request" (transport/timeout), "status" (5xx), "read" (truncated/corrupt body) or "too large"
	StatusCode int    // last HTTP status seen, 0 when none
	Attempts   int    // attempts made against URL
	Err        error  // underlying cause, may be nil for Op "status"
}

// Error says what went wrong and what to do about it.
func (e *Error) Error() string {
	times := timesWord(e.Attempts)
	switch e.Op {
	case "status":
		return fmt.Sprintf("upstream: GET %s: server answered %d %s; the source may be down, try again later", e.URL, e.StatusCode, times)
	case "read":
		return fmt.Sprintf("upstream: GET %s: body was truncated or corrupt %s (%v); the connection or source is unstable, try again later", e.URL, times, e.Err)
	case "too large":
		return fmt.Sprintf("upstream: GET %s: body larger than the limit (%v); raise Config.MaxBodyBytes if this file is expected to be that big", e.URL, e.Err)
	default:
		return fmt.Sprintf("upstream: cannot reach %s (%s) %s: check the network and the base URL, or try again later", hostOf(e.URL), cause(e.Err), times)
	}
}

// hostOf is the host of a URL, the URL itself when it has none.
func hostOf(raw string) string {
	if u, err := neturl.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// cause says in a few words why a request got no answer.
func cause(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &dns):
		return dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	return err.Error()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// RateLimitedError reports an HTTP 429, or a 503 carrying Retry-After. The
// client does not retry it: the caller should wait RetryAfter (0 when the
// server did not say) before asking that host again.
type RateLimitedError struct {
	Host       string // logical host of the request
	URL        string
	RetryAfter time.Duration
}

// Error describes the rate limit.
func (e *RateLimitedError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("upstream: GET %s: rate limited by %s; retry after %s", e.URL, e.Host, e.RetryAfter)
	}
	return fmt.Sprintf("upstream: GET %s: rate limited by %s; slow down before retrying", e.URL, e.Host)
}

// Calls returns the total number of real HTTP requests made by this client,
// including failed attempts, retries and mirror fallbacks.
func (c *Client) Calls() int64 { return c.calls.Load() }

// URL returns the full URL for path on host: the configured base URL (or
// "https://"+host) followed by path, which gets a leading "/" if it lacks one.
func (c *Client) URL(host, path string) string {
	base, ok := c.cfg.BaseURLs[host]
	if !ok {
		base = "https://" + host
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return base + path
}

// Get fetches path from host.
//
// err is nil iff the answer is definitive: a 2xx, or a 4xx other than 429. For
// LiveTiming any failure of the primary (status >= 400 after retries, or no
// answer at all) triggers exactly one fallback to Mirror, whose answer is then
// final; a 429 is never followed by the fallback.
//
// Get always returns a non-nil *Response, also together with an error: then
// only Host, Path, Calls and (when a status was seen) Status are meaningful, so
// callers can count real requests on every path. Errors are *RateLimitedError,
// *Error, or the wrapped ctx / Gate error.
func (c *Client) Get(ctx context.Context, host, path string) (*Response, error) {
	resp := &Response{Host: host, Path: path}
	status, body, err := c.fetch(ctx, resp, host, path)
	if host == LiveTiming && ctx.Err() == nil {
		var rl *RateLimitedError
		primaryFailed := (err == nil && status >= 400) || (err != nil && !errors.As(err, &rl) && !isGateErr(err))
		if primaryFailed {
			status, body, err = c.fetch(ctx, resp, Mirror, path)
			if err == nil {
				resp.Origin = Mirror
			}
		} else if err == nil {
			resp.Origin = host
		}
	} else if err == nil {
		resp.Origin = host
	}
	resp.Status = status
	if err != nil {
		return resp, err
	}
	resp.Body = body
	return resp, nil
}

// GetDirect is Get without the mirror fallback: exactly host is asked.
// The loader uses it to ask the mirror first for a season the primary
// does not serve, and the primary after that.
func (c *Client) GetDirect(ctx context.Context, host, path string) (*Response, error) {
	resp := &Response{Host: host, Path: path}
	status, body, err := c.fetch(ctx, resp, host, path)
	resp.Status = status
	if err != nil {
		return resp, err
	}
	resp.Origin = host
	resp.Body = body
	return resp, nil
}

type gateError struct{ err error }

func (g *gateError) Error() string { return g.err.Error() }
func (g *gateError) Unwrap() error { return g.err }

func isGateErr(err error) bool {
	var g *gateError
	return errors.As(err, &g)
}

// fetch asks one host, retrying transient failures. It returns a definitive
// status (2xx or non-429 4xx) with its body, or an error.
func (c *Client) fetch(ctx context.Context, resp *Response, host, path string) (int, []byte, error) {
	url := c.URL(host, path)
	var last *Error
	attempts := c.cfg.Retries + 1
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if err := sleep(ctx, c.backoff(i)); err != nil {
				return 0, nil, fmt.Errorf("upstream: get %s: %w", url, err)
			}
		}
		if c.gate != nil {
			if err := c.gate.Acquire(ctx, host); err != nil {
				return 0, nil, &gateError{fmt.Errorf("upstream: get %s: gate: %w", url, err)}
			}
		}
		c.calls.Add(1)
		resp.Calls++
		status, body, err := c.once(ctx, host, url)
		metrics.UpstreamRequests.WithLabelValues(host, metrics.Status(status)).Inc()
		if err == nil {
			return status, body, nil
		}
		var rl *RateLimitedError
		if errors.As(err, &rl) {
			return status, nil, err
		}
		if ctx.Err() != nil {
			return status, nil, fmt.Errorf("upstream: get %s: %w", url, ctx.Err())
		}
		var ue *Error
		if !errors.As(err, &ue) {
			return status, nil, fmt.Errorf("upstream: get %s: %w", url, err)
		}
		ue.Attempts = i + 1
		last = ue
		if ue.Op == "too large" {
			return status, nil, ue
		}
	}
	return last.StatusCode, nil, last
}

// backoff returns the wait before retry number n (1-based).
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryBackoff << (n - 1)
	return d + time.Duration(rand.Int64N(int64(d)/2+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// once makes one HTTP request. Transient failures come back as *Error.
func (c *Client) once(ctx context.Context, host, url string) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("upstream: get %s: %w", url, err)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept-Encoding", "gzip, identity")
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &Error{URL: url, Op: "request", Err: err}
	}
	defer res.Body.Close()

	if res.StatusCode == http.StatusTooManyRequests ||
		(res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "") {
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return res.StatusCode, nil, &RateLimitedError{Host: host, URL: url, RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	}
	if res.StatusCode >= 500 {
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return res.StatusCode, nil, &Error{URL: url, Op: "status", StatusCode: res.StatusCode}
	}
	limit := c.cfg.MaxBodyBytes
	if res.ContentLength > limit {
		return res.StatusCode, nil, &Error{URL: url, Op: "too large", StatusCode: res.StatusCode,
			Err: fmt.Errorf("Content-Length %d > %d bytes", res.ContentLength, limit)}
	}
	raw, err := readLimited(res.Body, limit, res.ContentLength)
	if err != nil {
		return res.StatusCode, nil, c.readErr(url, res.StatusCode, err)
	}
	body := raw
	if strings.EqualFold(strings.TrimSpace(res.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return res.StatusCode, nil, &Error{URL: url, Op: "read", StatusCode: res.StatusCode, Err: fmt.Errorf("gzip: %w", err)}
		}
		body, err = readLimited(zr, limit, -1)
		if err != nil {
			return res.StatusCode, nil, c.readErr(url, res.StatusCode, fmt.Errorf("gzip: %w", err))
		}
	}
	return res.StatusCode, body, nil
}

var errTooLarge = errors.New("body exceeds limit")

func (c *Client) readErr(url string, status int, err error) error {
	if errors.Is(err, errTooLarge) {
		return &Error{URL: url, Op: "too large", StatusCode: status, Err: fmt.Errorf("more than %d bytes", c.cfg.MaxBodyBytes)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{URL: url, Op: "request", StatusCode: status, Err: err}
	}
	return &Error{URL: url, Op: "read", StatusCode: status, Err: err}
}

// readLimited reads r fully, failing with errTooLarge beyond max bytes.
// readLimited reads r whole, failing past limit bytes. With size (the
// Content-Length, -1 when unknown) the buffer is allocated once at its
// final size, so a large body is never copied while it grows.
func readLimited(r io.Reader, limit, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 && size <= limit {
		buf.Grow(int(size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// parseRetryAfter reads a Retry-After value given in seconds or as an HTTP
// date (relative to now). Unparseable or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

func timesWord(n int) string {
	switch n {
	case 0, 1:
		return "once"
	case 2:
		return "twice"
	}
	words := []string{"three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	if n-3 < len(words) {
		return words[n-3] + " times"
	}
	return strconv.Itoa(n) + " times"
}
