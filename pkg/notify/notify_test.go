package notify

import (
	"testing"
	"time"

	"github.com/paddock-f1/paddock/streams"
)

func TestSummaryReadsLikeTheOriginalDesign(t *testing.T) {
	cases := []struct {
		name string
		s    streams.Summary
		want string
	}{
		{"completed", streams.Summary{Year: 2024, Status: "completed", SessionsProcessed: 45, SessionsSucceeded: 43, SessionsFailed: 2,
			DataExtracted: map[string]int{"weather": 43, "laps": 40}, APICallsMade: 45, DurationSeconds: 185.3},
			"✅ F1 Import Complete - Season 2024\n\nSessions Processed: 45\nSucceeded: 43\nFailed: 2\nLaps Data: 40\nWeather Data: 43\nAPI Calls: 45\nDuration: 185.3s"},
		{"failed", streams.Summary{Year: 2024, Status: "failed", SessionsProcessed: 12, SessionsSucceeded: 11, SessionsFailed: 1, SessionsUnavail: 3,
			Failures: []string{"2024/5/Race weather: upstream: GET …: server answered 502 three times"}, APICallsMade: 30, RateLimitPauses: 2, DurationSeconds: 61},
			"❌ F1 Import Failed - Season 2024\nError: 2024/5/Race weather: upstream: GET …: server answered 502 three times\n\nSessions Processed: 12\nSucceeded: 11\nFailed: 1\nUnavailable: 3\nAPI Calls: 30\nRate Limit Pauses: 2\nDuration: 61.0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Summary(&c.s); got != c.want {
				t.Fatalf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestPause(t *testing.T) {
	p := streams.Paused{RunID: "r1", Host: "api.jolpi.ca", Reason: "retry-after", Until: time.Date(2024, 3, 15, 15, 0, 0, 0, time.UTC)}
	want := "⏸️ Import paused: api.jolpi.ca it asked us to wait (Retry-After); resuming by itself at 15:00:00 UTC (run r1)"
	if got := Pause(&p); got != want {
		t.Fatalf("got %q", got)
	}
}
