package stack_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/streams"
)

// TestSlackNotifications: a run planned with Notify posts its summary to
// the Slack webhook (through slack-go against a local webhook that
// answers the first post 429 with Retry-After), a run without it posts
// nothing.
func TestSlackNotifications(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	hits := 0
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if hits == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		var m struct {
			Text string `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		posts = append(posts, m.Text)
	}))
	defer slack.Close()
	st := startFull(t, governor.Config{Window: time.Hour, Default: governor.Limit{PerWindow: 100000}}, slack.URL)

	importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "FP1", Kinds: []string{"weather"}})
	_, sum, _ := importRun(t, st, streams.PlanCommand{Year: 2019, Round: round(14), Session: "Q", Kinds: []string{"weather"}, Notify: true})
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(posts)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 || hits != 2 {
		t.Fatalf("%d posts after %d webhook calls, want the notified run's summary once after one 429: %q", len(posts), hits, posts)
	}
	for _, want := range []string{"✅ F1 Import Complete - Season 2019", "Sessions Processed: 1", "Succeeded: 1", "Weather Data: 1",
		"API Calls: " + itoa(sum.APICallsMade)} {
		if !strings.Contains(posts[0], want) {
			t.Fatalf("post lacks %q:\n%s", want, posts[0])
		}
	}
}
