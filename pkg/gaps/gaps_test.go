package gaps

import (
	"testing"
	"time"

	"github.com/paddock-f1/paddock/streams"
)

func TestIsMissing(t *testing.T) {
	ended := time.Date(2024, 5, 5, 22, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		ledger map[string]ledgerRow
		want   bool
	}{
		{"never extracted", nil, true},
		{"done", map[string]ledgerRow{"weather": {status: streams.StatusDone, version: 1}}, false},
		{"done by an older extractor", map[string]ledgerRow{"weather": {status: streams.StatusDone, version: 0}}, true},
		{"failed", map[string]ledgerRow{"weather": {status: streams.StatusFailed, version: 1}}, true},
		{"unavailable right after the session, asked an hour ago", map[string]ledgerRow{"weather": {status: streams.StatusUnavailable, version: 1, at: ended.Add(time.Hour)}}, true},
		{"unavailable right after the session, just asked", map[string]ledgerRow{"weather": {status: streams.StatusUnavailable, version: 1, at: ended.Add(2*time.Hour - time.Minute)}}, false},
		{"unavailable a week after the session", map[string]ledgerRow{"weather": {status: streams.StatusUnavailable, version: 1, at: ended.Add(8 * 24 * time.Hour)}}, false},
		{"another kind done", map[string]ledgerRow{"laps": {status: streams.StatusDone, version: 1}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := isMissing("weather", c.ledger, ended, ended.Add(2*time.Hour)); got != c.want {
				t.Fatalf("isMissing = %v, want %v", got, c.want)
			}
		})
	}
}
