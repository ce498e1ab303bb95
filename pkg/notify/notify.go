// Package notify posts what users want to hear about a run to Slack: its
// summary when it ends (the original design's "Import Complete" and
// "Import Failed" messages) and every pause the rate governor imposes, for
// runs planned with --notify. Posting is best effort for the run (a post
// never fails an import) but reliable for the message: a Slack rate limit
// hands the event back until Slack takes it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paddock-f1/paddock/pkg/ops"

	"github.com/paddock-f1/paddock/pkg/metrics"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/slack-go/slack"

	"github.com/paddock-f1/paddock/pkg/consume"
	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/streams"
)

// Poster delivers a message.
type Poster interface {
	Post(ctx context.Context, text string) error
}

// Webhook posts to a Slack incoming webhook. A 429 comes back as
// *slack.RateLimitedError with Slack's Retry-After.
type Webhook struct {
	URL    string
	Client *http.Client // http.Client with a 10 s timeout when nil
}

// Post implements Poster.
func (w *Webhook) Post(ctx context.Context, text string) error {
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, w.URL, c, &slack.WebhookMessage{Text: text}); err != nil {
		// The error may quote the webhook URL, whose path is its token.
		return secret.Err(fmt.Errorf("notify: post to Slack: %w", err))
	}
	return nil
}

// Log "posts" to the log, for deployments without a webhook.
type Log struct{ Log *slog.Logger }

// Post implements Poster.
func (l Log) Post(_ context.Context, text string) error {
	l.Log.Info("notification (no SLACK_WEBHOOK_URL set)", "text", text)
	return nil
}

// Notifier turns run events into posts.
type Notifier struct {
	bound atomic.Bool // the durable consumer is bound (readiness)
	js    jetstream.JetStream
	post  Poster
	log   *slog.Logger
}

// New returns a notifier posting through post.
func New(js jetstream.JetStream, post Poster, log *slog.Logger) *Notifier {
	return &Notifier{js: js, post: post, log: log}
}

// Run consumes run events until ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	c, err := streams.Consumer(ctx, n.js, streams.NotifierConsumer)
	if err != nil {
		return err
	}
	n.bound.Store(true)
	defer n.bound.Store(false)
	return consume.Run(ctx, c, n.Handle, n.log, consume.Options{Concurrency: 1,
		Name: streams.NotifierConsumer, DeadLetters: n.js})
}

// Ready is the notifier's readiness: its consumer is bound.
func (n *Notifier) Ready() ops.Check { return ops.Bound("notifier", &n.bound) }

// Handle posts one event if its run asked for notifications.
func (n *Notifier) Handle(ctx context.Context, msg jetstream.Msg) error {
	var text string
	switch {
	case strings.HasSuffix(msg.Subject(), "."+streams.RunCompleted):
		var s streams.Summary
		if err := streams.Decode(msg.Data(), &s); err != nil {
			return consume.Permanent(err)
		}
		if !s.Notify {
			return nil
		}
		text = Summary(&s)
	case strings.HasSuffix(msg.Subject(), "."+streams.RunPaused):
		var p streams.Paused
		if err := streams.Decode(msg.Data(), &p); err != nil {
			return consume.Permanent(err)
		}
		if !p.Notify {
			return nil
		}
		text = Pause(&p)
	default:
		return nil
	}
	err := n.post.Post(ctx, text)
	if err != nil {
		metrics.SlackPosts.WithLabelValues("failed").Inc()
	} else {
		metrics.SlackPosts.WithLabelValues("ok").Inc()
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return consume.Retry(max(rl.RetryAfter, time.Second), err)
	}
	return err
}

// Summary is the message of a finished run, in the original design's words.
func Summary(s *streams.Summary) string {
	var b strings.Builder
	if s.Status == "completed" {
		fmt.Fprintf(&b, "✅ F1 Import Complete - Season %d\n", s.Year)
	} else {
		fmt.Fprintf(&b, "❌ F1 Import Failed - Season %d\n", s.Year)
		if len(s.Failures) > 0 {
			fmt.Fprintf(&b, "Error: %s\n", s.Failures[0])
		}
	}
	fmt.Fprintf(&b, "\nSessions Processed: %d\nSucceeded: %d\nFailed: %d\n", s.SessionsProcessed, s.SessionsSucceeded, s.SessionsFailed)
	if s.SessionsUnavail > 0 {
		fmt.Fprintf(&b, "Unavailable: %d\n", s.SessionsUnavail)
	}
	kinds := make([]string, 0, len(s.DataExtracted))
	for k := range s.DataExtracted {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "%s Data: %d\n", strings.ToUpper(k[:1])+k[1:], s.DataExtracted[k])
	}
	fmt.Fprintf(&b, "API Calls: %d\n", s.APICallsMade)
	if s.RateLimitPauses > 0 {
		fmt.Fprintf(&b, "Rate Limit Pauses: %d\n", s.RateLimitPauses)
	}
	fmt.Fprintf(&b, "Duration: %.1fs", s.DurationSeconds)
	return b.String()
}

// Pause is the message of a pause the rate governor imposed.
func Pause(p *streams.Paused) string {
	why := "its quota window is full"
	if p.Reason == "retry-after" {
		why = "it asked us to wait (Retry-After)"
	}
	return fmt.Sprintf("⏸️ Import paused: %s %s; resuming by itself at %s UTC (run %s)",
		p.Host, why, p.Until.UTC().Format("15:04:05"), p.RunID)
}
