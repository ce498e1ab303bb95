package main

import (
	"strings"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/streams"
)

// TestProgressAnnouncesPauses: off a terminal, a pause is a line naming
// the host, why, and when the run resumes by itself.
func TestProgressAnnouncesPauses(t *testing.T) {
	var out strings.Builder
	p := newProgress(3, false)
	p.bar, p.w = nil, &out
	until := time.Now().Add(90 * time.Second).UTC()
	p.paused(&streams.Paused{Host: "livetiming.formula1.com", Until: until, Reason: "quota"})
	p.outcome(&streams.Extraction{Kind: "laps", SessionKey: streams.Key(2019, 14, "Qualifying"), Status: "done", Rows: 275})
	got := out.String()
	for _, want := range []string{"paused livetiming.formula1.com: its quota window is full; resumes by itself at " + until.Format("15:04:05 UTC"),
		"(in 1m", "done   2019/14 Qualifying        laps (275 rows)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
