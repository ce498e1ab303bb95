package streams

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// SchemaVersion is the version every message carries in its V field.
// Readers reject messages with a higher version than they know.
const SchemaVersion = 1

// PlanCommand asks the planner to import what is missing.
type PlanCommand struct {
	V       int      `json:"v"`
	RunID   string   `json:"run_id,omitempty"` // optional: chosen by the caller so it can follow the run before sending
	Year    int      `json:"year"`
	Round   *int     `json:"round,omitempty"`   // nil = every round
	Session string   `json:"session,omitempty"` // FastF1 name or short code; "" = every session
	Kinds   []string `json:"kinds,omitempty"`   // nil = every kind
	Force   bool     `json:"force,omitempty"`   // re-extract even what is done
	Refetch bool     `json:"refetch,omitempty"` // bypass the raw archive and ask the upstream again
	// ArchiveOnly loads from the raw archive alone, never the upstream
	// (paddock replay): only sessions whose kinds' required feeds are
	// archived are planned, and a feed the archive lacks is not fetched.
	// It excludes Refetch.
	ArchiveOnly bool `json:"archive_only,omitempty"`
	// MaxCalls, when > 0, caps the upstream calls of the run: sessions
	// whose estimate does not fit (also in the remaining quota) are
	// deferred to a later plan.
	MaxCalls int `json:"max_calls,omitempty"`
	// DryRun asks for the gap report only: no run, nothing published (a
	// season whose schedule is unknown still has its schedule loaded).
	DryRun bool `json:"dry_run,omitempty"`
	// Notify posts the run's pauses and its summary to Slack.
	Notify bool `json:"notify,omitempty"`
	// Replay, on the run of 'paddock dlq replay', is the dead letter (its
	// DLQ sequence) the run re-sent: such a run is recorded with its one
	// session's kinds by the replay itself, never planned by a planner.
	Replay uint64 `json:"dlq_replay,omitempty"`
}

// SessionRef names one session of a season.
type SessionRef struct {
	SessionKey
	Event string `json:"event,omitempty"`
	// RunID, on a session already queued by another run, names that run:
	// this run follows its outcomes for the session.
	RunID string `json:"run_id,omitempty"`
}

// MissingKinds is what one session lacks.
type MissingKinds struct {
	SessionRef
	Kinds    []string `json:"kinds"`
	Calls    int      `json:"estimated_calls"`
	MinCalls int      `json:"estimated_min_calls"` // if the session has no data
}

// GapReport is the planner's answer: what is missing and what it costs.
type GapReport struct {
	Year              int            `json:"year"`
	Events            int            `json:"events"`
	Sessions          int            `json:"sessions"` // past sessions in scope
	MissingRaces      []int          `json:"missing_races"`
	MissingSessions   []SessionRef   `json:"missing_sessions"`
	SessionGaps       []MissingKinds `json:"session_gaps"`
	Queued            []SessionRef   `json:"already_queued,omitempty"` // pending in GAPS from another run, which this run follows
	Deferred          []SessionRef   `json:"deferred,omitempty"`       // left for a later plan: over --max-calls or the remaining quota
	Quota             []QuotaLeft    `json:"quota,omitempty"`
	EstimatedCalls    int            `json:"estimated_api_calls"`
	EstimatedMinCalls int            `json:"estimated_min_api_calls"` // if no session in scope has data
	ArchivedFeeds     int            `json:"archived_feeds"`          // feeds the gaps need that the archive already holds
	ScheduleLoaded    bool           `json:"schedule_loaded"`
	// Stale counts the sessions in scope whose kinds were extracted by an
	// older extractor version than the current one: they are among the
	// gaps, re-extracted (from the archive) by the next plan.
	Stale []StaleKind `json:"stale,omitempty"`
	// NotArchived lists, for an archive-only plan, the sessions in scope
	// left out because the raw archive lacks a feed their kinds require.
	NotArchived []SessionRef `json:"not_archived,omitempty"`
}

// StaleKind is how many sessions a kind's older extractor version wrote:
// "weather v1 -> v2, 12 sessions".
type StaleKind struct {
	Kind     string `json:"kind"`
	From     int    `json:"from_version"`
	To       int    `json:"to_version"`
	Sessions int    `json:"sessions"`
}

// QuotaLeft is the remaining quota of an upstream host at planning time.
type QuotaLeft struct {
	Host      string `json:"host"`
	Remaining int    `json:"remaining"`
	MaxCalls  int    `json:"max_calls"`
}

// PlanReply is the planner's reply to a command, and the payload of a
// run's planned event. A command is first accepted (recorded in PLANS:
// Accepted, no report yet), then planned by whichever planner takes it:
// Report, or Refused (the command cannot be carried out: the run failed
// and published nothing).
type PlanReply struct {
	V        int        `json:"v"`
	RunID    string     `json:"run_id"`
	Accepted bool       `json:"accepted,omitempty"`
	Report   *GapReport `json:"report"`
	Refused  string     `json:"refused,omitempty"`
	// Invalid: the refusal is the command's fault (a round or session the
	// schedule does not have), not the sources'.
	Invalid bool `json:"invalid,omitempty"`
}

// Waiting is a run's waiting event: its plan waits for the loader, which
// has Ahead gaps to load before the season schedule this plan needs, and
// for the upstream when PausedUntil is set (the host's quota window is
// full or it asked to wait).
type Waiting struct {
	V           int        `json:"v"`
	RunID       string     `json:"run_id"`
	For         string     `json:"for"` // what is awaited, in words
	Ahead       int        `json:"ahead"`
	Host        string     `json:"host,omitempty"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	Since       time.Time  `json:"since"`
}

// Gap asks the loader to load one session (or, with Schedule set, the
// season schedule) for the listed kinds.
type Gap struct {
	V          int       `json:"v"`
	RunID      string    `json:"run_id"`
	Schedule   bool      `json:"schedule,omitempty"`
	SessionKey           // Year only for a schedule gap
	Code       string    `json:"code,omitempty"`
	Path       string    `json:"path,omitempty"` // archive path of the session, relative to /static/
	Ended      time.Time `json:"ended,omitempty"`
	Mirror     bool      `json:"mirror,omitempty"`      // the season is served by the mirror: ask it first
	CircuitKey int       `json:"circuit_key,omitempty"` // the event's circuit (corrected); 0 = learn it from SessionInfo
	Notify     bool      `json:"notify,omitempty"`      // the run posts its pauses to Slack
	Kinds      []string  `json:"kinds,omitempty"`
	Force      bool      `json:"force,omitempty"`
	Refetch    bool      `json:"refetch,omitempty"`
	// ArchiveOnly: load every feed from the raw archive; one it lacks is
	// recorded as skipped, never asked of the upstream.
	ArchiveOnly bool `json:"archive_only,omitempty"`
	// RefetchFeeds names feeds (Feed.Name) to ask the upstream for anew
	// even when archived: a kind failed on their archived body, or
	// skipped lines of it.
	RefetchFeeds []string `json:"refetch_feeds,omitempty"`
}

// Feed statuses in a manifest.
const (
	FeedOK      = "ok"      // archived, Object names it
	FeedMissing = "missing" // neither source has it (definitive 4xx)
	FeedFailed  = "failed"  // could not be fetched (Error says why)
	FeedSkipped = "skipped" // not fetched: the session is unavailable
)

// Feed is one upstream response a manifest refers to.
type Feed struct {
	Name   string `json:"name"` // e.g. "WeatherData.jsonStream" or "schedule:jolpica"
	Host   string `json:"host"`
	Path   string `json:"path"`
	Object string `json:"object,omitempty"` // RAW object name
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Status string `json:"status"`
	Origin string `json:"origin,omitempty"` // host that answered
	Error  string `json:"error,omitempty"`
}

// Manifest announces a loaded session or schedule: the claim check for its
// raw feeds in the archive.
type Manifest struct {
	V           int       `json:"v"`
	RunID       string    `json:"run_id"`
	Schedule    bool      `json:"schedule,omitempty"`
	SessionKey            // Year only for a schedule manifest
	Code        string    `json:"code,omitempty"`
	Path        string    `json:"path,omitempty"`
	Kinds       []string  `json:"kinds,omitempty"`
	Force       bool      `json:"force,omitempty"`
	Unavailable string    `json:"unavailable,omitempty"` // reason when the session is not available at all
	CircuitKey  int       `json:"circuit_key,omitempty"` // the layout loaded for per-event kinds
	Feeds       []Feed    `json:"feeds"`
	Calls       int       `json:"calls"`        // real upstream requests made for this load
	ArchiveHits int       `json:"archive_hits"` // feeds served by the archive
	LoadedAt    time.Time `json:"loaded_at"`
}

// Feed returns the manifest entry of the named feed, or nil.
func (m *Manifest) Feed(name string) *Feed {
	for i := range m.Feeds {
		if m.Feeds[i].Name == name {
			return &m.Feeds[i]
		}
	}
	return nil
}

// Wants reports whether the manifest was loaded for kind.
func (m *Manifest) Wants(kind string) bool {
	for _, k := range m.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Digest is a content digest of the manifest's feeds, used as the input
// digest of extractions and in message ids.
func (m *Manifest) Digest() string {
	h := sha256.New()
	for _, f := range m.Feeds {
		fmt.Fprintf(h, "%s|%s|%s\n", f.Name, f.Status, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Outcome statuses of a (session, kind).
const (
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusUnavailable = "unavailable"
)

// Extraction reports the outcome of one kind for one session.
type Extraction struct {
	V     int    `json:"v"`
	RunID string `json:"run_id"`
	Kind  string `json:"kind"`
	SessionKey
	Status string `json:"status"`
	Rows   int    `json:"rows"`
	Reason string `json:"reason,omitempty"`
	Digest string `json:"input_digest,omitempty"`
	// SkippedLines counts the feed lines a done kind skipped as tolerated
	// defects (Reason then names them); 0 when it took its feeds whole.
	SkippedLines int `json:"skipped_lines,omitempty"`
}

// Call records one real upstream request of a run. It is published
// before the request is made, so a loader that dies mid-load still has
// every request it made counted.
type Call struct {
	V       int    `json:"v"`
	RunID   string `json:"run_id"`
	Subject string `json:"subject"` // loader job: "2019/14/Qualifying#1" (what, delivery attempt)
	Seq     int    `json:"seq"`     // request number within the job
	Host    string `json:"host"`
}

// Paused records that the governor made the loader wait.
type Paused struct {
	V      int       `json:"v"`
	RunID  string    `json:"run_id"`
	Host   string    `json:"host"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"` // quota | retry-after
	Notify bool      `json:"notify,omitempty"`
}

// LoadCost reports how one loader job of a run ended.
type LoadCost struct {
	V           int    `json:"v"`
	RunID       string `json:"run_id"`
	Subject     string `json:"subject"` // what was loaded: "2019/14/Qualifying#1" or "2019/schedule#1"
	ArchiveHits int    `json:"archive_hits"`
	Unavailable string `json:"unavailable,omitempty"`
	Failed      string `json:"failed,omitempty"`
}

// Summary is the account of a finished run.
type Summary struct {
	V                 int            `json:"v"`
	RunID             string         `json:"run_id"`
	Year              int            `json:"year"`
	Status            string         `json:"status"` // completed | failed
	GapsDetected      int            `json:"gaps_detected"`
	SessionsProcessed int            `json:"sessions_processed"`
	SessionsSucceeded int            `json:"sessions_succeeded"`
	SessionsFailed    int            `json:"sessions_failed"`
	SessionsPartial   int            `json:"sessions_partial"`
	SessionsUnavail   int            `json:"sessions_unavailable"`
	DataExtracted     map[string]int `json:"data_extracted"`
	KindsUnavailable  map[string]int `json:"kinds_unavailable"`
	KindsFailed       map[string]int `json:"kinds_failed"`
	APICallsMade      int            `json:"api_calls_made"`
	ScheduleCalls     int            `json:"schedule_api_calls"`      // of which loading season schedules
	EstimatedCalls    int            `json:"estimated_api_calls"`     // the gap report's estimate for the sessions (if all have data)
	EstimatedMinCalls int            `json:"estimated_min_api_calls"` // ... if none has data
	ArchiveHits       int            `json:"archive_hits"`
	RateLimitPauses   int            `json:"rate_limit_pauses"`
	DurationSeconds   float64        `json:"duration_seconds"`
	Failures          []string       `json:"failures,omitempty"`
	Skipped           []string       `json:"skipped,omitempty"` // done kinds that skipped lines: "2019/14/Qualifying weather: 1 line skipped (...)"
	StartedAt         time.Time      `json:"started_at"`
	Notify            bool           `json:"notify,omitempty"`
	FinishedAt        time.Time      `json:"finished_at"`
}

// Encode marshals a message; it never fails for the types of this package.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("streams: encode %T: %v", v, err))
	}
	return b
}

// Decode unmarshals a message and checks its schema version.
func Decode(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	version, ok := versionOf(v)
	if err != nil || !ok {
		// Read the version alone: a newer message that does not decode
		// into this build's type says so rather than how it failed.
		var head struct {
			V int `json:"v"`
		}
		herr := json.Unmarshal(data, &head)
		if herr != nil && err == nil {
			err = herr
		}
		version = head.V
	}
	if version > SchemaVersion {
		return fmt.Errorf("streams: %T has schema version %d, this build knows %d: upgrade paddock", v, version, SchemaVersion)
	}
	if err != nil {
		return fmt.Errorf("streams: decode %T: %w", v, err)
	}
	return nil
}

// versionOf reads the schema version a message decoded into v carries:
// its int field V, which every message type has.
func versionOf(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	f := rv.Elem().FieldByName("V")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return 0, false
	}
	return int(f.Int()), true
}

// MsgID derives a Nats-Msg-Id from the given parts.
func MsgID(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// NewRunID returns a fresh run id: UTC time plus randomness, sortable.
// Callers choose it before sending a command, so they can follow the run
// from its first event.
func NewRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
