package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// TestReplayCommand: 'paddock replay weather' after an import re-extracts
// the session with every upstream URL pointing at a server that fails
// and counts each request: it is never asked. Without --year the seasons
// come from the ledger.
func TestReplayCommand(t *testing.T) {
	var asked atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, "replay must not ask the upstream", http.StatusInternalServerError)
	}))
	defer upstream.Close()
	t.Setenv("DATABASE_URL", testenv.Database(t))
	t.Setenv("PADDOCK_DATA_DIR", t.TempDir())
	t.Setenv("NATS_URL", "")
	for _, v := range []string{"PADDOCK_LIVETIMING_URL", "PADDOCK_MIRROR_URL", "PADDOCK_JOLPICA_URL", "PADDOCK_MULTIVIEWER_URL", "PADDOCK_GITHUBRAW_URL"} {
		t.Setenv(v, upstream.URL)
	}
	out, code, msg := runCLI(t, "import", "--year", "2019", "--round", "14", "--session", "Q", "--kinds", "weather,laps",
		"--recorded", testenv.Recorded(t))
	if code != 0 {
		t.Fatalf("import: exit %d (%s):\n%s", code, msg, out)
	}
	for _, args := range [][]string{
		{"replay", "weather", "--year", "2019", "--round", "14", "--session", "Q"},
		{"replay", "weather"},
	} {
		out, code, msg = runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d (%s):\n%s", strings.Join(args, " "), code, msg, out)
		}
		if !strings.Contains(out, "replayed weather: 1 session, 0 upstream calls\n") || !strings.Contains(out, "Estimated API calls: 0") ||
			!strings.Contains(out, "✅ Replay complete - Season 2019") {
			t.Fatalf("%s printed:\n%s", strings.Join(args, " "), out)
		}
		if n := asked.Load(); n != 0 {
			t.Fatalf("%s asked the upstream %d times", strings.Join(args, " "), n)
		}
	}
	t.Logf("paddock replay weather:\n%s", out)

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "replay needs a kind"},
		{[]string{"replay", "tyres", "--year", "2019"}, `unknown kind "tyres"`},
		{[]string{"replay", "weather", "--round", "14"}, "--round and --session need --year"},
	} {
		if _, code, msg := runCLI(t, c.args...); code != 2 || !strings.Contains(msg, c.want) {
			t.Errorf("%s: exit %d (%s), want 2 saying %q", strings.Join(c.args, " "), code, msg, c.want)
		}
	}
}

// TestReportShowsStaleKinds: the gap report names each kind an older
// extractor wrote, with the versions and the sessions, and the sessions an
// archive-only plan left out.
func TestReportShowsStaleKinds(t *testing.T) {
	var b bytes.Buffer
	printReport(&b, &streams.PlanReply{Report: &streams.GapReport{Year: 2019,
		Stale:       []streams.StaleKind{{Kind: "weather", From: 1, To: 2, Sessions: 12}, {Kind: "laps", From: 2, To: 3, Sessions: 1}},
		NotArchived: []streams.SessionRef{{SessionKey: streams.SessionKey{Year: 2019, Round: 3, Session: "Race"}, Event: "Chinese Grand Prix"}},
	}}, false)
	for _, want := range []string{
		"  Stale: weather v1 -> v2, 12 sessions\n",
		"  Stale: laps v2 -> v3, 1 session\n",
		"  Not in the raw archive (left out: a replay asks no upstream): 1 session\n    R03 Chinese Grand Prix",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
