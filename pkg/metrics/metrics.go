// Package metrics is paddock's application metrics, served on every
// service's /metrics (package ops) next to the Go runtime's. Names follow
// Prometheus conventions (paddock_ prefix, _total counters, base units).
//
// The collectors are process-wide, as a process has one /metrics: they
// are registered once with Prometheus' default registry, and every
// service of a process (the embedded default runs them all) adds to them.
// deploy/grafana/paddock.json charts them.
package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	// UpstreamRequests counts real upstream HTTP requests by logical host
	// and HTTP status ("error" when no response came).
	UpstreamRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_upstream_requests_total",
		Help: "Upstream HTTP requests made, by host and status (error: no response).",
	}, []string{"host", "status"})

	// QuotaUsed is the calls counted in a host's current quota window,
	// QuotaLimit the window's limit.
	QuotaUsed = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "paddock_quota_used",
		Help: "Upstream calls in the host's current sliding quota window.",
	}, []string{"host"})
	QuotaLimit = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "paddock_quota_limit",
		Help: "Upstream calls the host's quota window allows.",
	}, []string{"host"})

	// Pauses counts the governor's pauses by host and reason (quota,
	// retry-after); PausedSeconds adds up how long they last.
	Pauses = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_upstream_pauses_total",
		Help: "Pauses the rate governor imposed, by host and reason (quota, retry-after).",
	}, []string{"host", "reason"})
	PausedSeconds = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_upstream_paused_seconds_total",
		Help: "Seconds of pause the rate governor imposed, by host.",
	}, []string{"host"})

	// GapsPending is the loader's backlog: gaps in GAPS not yet handed to
	// it (its consumer's pending count, as of its last gap).
	GapsPending = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "paddock_gaps_pending",
		Help: "Session gaps waiting for the loader (its consumer's pending count).",
	})

	// SessionsLoaded counts the loader's finished loads by outcome
	// (loaded, unavailable, failed).
	SessionsLoaded = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_sessions_loaded_total",
		Help: "Session loads the loader finished, by outcome (loaded, unavailable, failed).",
	}, []string{"outcome"})

	// ArchiveHits counts feeds served by the raw archive instead of the
	// upstream; ArchiveBytes the bytes written to (in) and read from (out)
	// the archive.
	ArchiveHits = promauto.NewCounter(prometheus.CounterOpts{
		Name: "paddock_archive_hits_total",
		Help: "Feeds the raw archive served instead of the upstream.",
	})
	ArchiveBytes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_archive_bytes_total",
		Help: "Bytes written to (in) and read from (out) the raw archive.",
	}, []string{"direction"})

	// ExtractionSeconds times each extraction by kind; Extractions counts
	// them by kind and outcome (done, failed, unavailable); RowsWritten
	// counts the rows the done ones wrote.
	ExtractionSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "paddock_extraction_duration_seconds",
		Help:    "Time to extract one kind of one session, by kind.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
	}, []string{"kind"})
	Extractions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_extractions_total",
		Help: "Extractions ended, by kind and status (done, failed, unavailable).",
	}, []string{"kind", "status"})
	RowsWritten = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_rows_written_total",
		Help: "Rows written by extractions, by kind.",
	}, []string{"kind"})

	// Runs counts finished runs by status (completed, failed); RunSeconds
	// times them.
	Runs = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_runs_total",
		Help: "Import runs finished, by status (completed, failed).",
	}, []string{"status"})
	RunSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "paddock_run_duration_seconds",
		Help:    "Duration of finished import runs.",
		Buckets: prometheus.ExponentialBuckets(0.5, 3, 10),
	})

	// Retries counts failed deliveries handed back to be retried, by
	// consumer and reason (the dependency down: postgresql, nats, archive;
	// retry: the handler asked for a delay; panic; error). BackingOff is
	// the messages a consumer is retrying now, BackingOffSince when the
	// oldest of them first failed (Unix seconds; 0 when none), and
	// DeadLetters the messages given up to the DLQ stream, by consumer and
	// why (permanent, panic, retry-budget). Package consume keeps them.
	Retries = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_retries_total",
		Help: "Failed deliveries handed back to be retried, by consumer and reason (postgresql, nats, archive, retry, panic, error).",
	}, []string{"consumer", "reason"})
	BackingOff = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "paddock_backing_off_messages",
		Help: "Messages the consumer is retrying after failures.",
	}, []string{"consumer"})
	BackingOffSince = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "paddock_backing_off_since_seconds",
		Help: "Unix time the oldest message the consumer is retrying first failed; 0 when none.",
	}, []string{"consumer"})
	DeadLetters = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_dead_letters_total",
		Help: "Messages given up to the DLQ stream, by consumer and why (permanent, panic, retry-budget).",
	}, []string{"consumer", "why"})

	// SlackPosts counts the notifier's posts by result (ok, failed).
	SlackPosts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "paddock_slack_posts_total",
		Help: "Slack posts by result (ok, failed).",
	}, []string{"result"})
)

// Status is an HTTP status as the requests counter labels it; 0 (no
// response) is "error".
func Status(code int) string {
	if code == 0 {
		return "error"
	}
	return strconv.Itoa(code)
}

// deadLettersHeld is paddock_dead_letters: what the DLQ stream holds at the
// moment of the scrape, by consumer, read with the count CountDeadLetters
// set (a replay removes dead letters, so a counter cannot say it). A
// process that set none, or whose count fails, reports nothing.
var deadLettersHeld = &heldCollector{desc: prometheus.NewDesc("paddock_dead_letters",
	"Dead letters the DLQ stream holds now, by consumer ('paddock dlq ls' lists them, 'paddock dlq replay' sends them again).",
	[]string{"consumer"}, nil)}

func init() { prometheus.MustRegister(deadLettersHeld) }

// CountDeadLetters sets how paddock_dead_letters is read at each scrape:
// count returns the dead letters held per consumer. Run accounting sets
// it; the last call wins.
func CountDeadLetters(count func(ctx context.Context) (map[string]int, error)) {
	deadLettersHeld.mu.Lock()
	defer deadLettersHeld.mu.Unlock()
	deadLettersHeld.count = count
}

type heldCollector struct {
	desc  *prometheus.Desc
	mu    sync.Mutex
	count func(ctx context.Context) (map[string]int, error)
	seen  map[string]bool // consumers that held dead letters in an earlier scrape
}

func (c *heldCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *heldCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	count := c.count
	c.mu.Unlock()
	if count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	held, err := count(ctx)
	if err != nil {
		return
	}
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	for consumer := range held {
		c.seen[consumer] = true
	}
	for consumer := range c.seen { // a consumer whose dead letters were all replayed reads 0
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(held[consumer]), consumer)
	}
	c.mu.Unlock()
}
