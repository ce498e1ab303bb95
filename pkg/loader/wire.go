package loader

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/pkg/upstream"
)

// Config is the loader service's configuration.
type Config struct {
	Upstream upstream.Config
	Quota    governor.Config
	// AckWait is how soon a dead loader's gap is handed out again; 0
	// keeps the topology's default.
	AckWait time.Duration
}

// Service is a wired loader: the loader, the rate governor it runs
// under, and the upstream client behind that governor.
type Service struct {
	*Loader
	Governor *governor.Governor
	Upstream *upstream.Client
}

// Wire builds the loader service on js and arc: the governor (each pause
// announced on EVENTS for the run being loaded), the upstream client
// gated by it, and the loader. The loader's main and the embedded default
// both wire it here; run it with Run.
func Wire(ctx context.Context, js jetstream.JetStream, arc *archive.Archive, cfg Config, log *slog.Logger) (*Service, error) {
	announce := PauseAnnouncer(js, log)
	if cfg.Quota.Log == nil {
		cfg.Quota.Log = log // limits that differ from the ledgers' are warned of here
	}
	gov, err := governor.New(ctx, js, cfg.Quota, func(ctx context.Context, p governor.Pause) {
		announce(ctx, p.Host, p.Until, p.Reason)
	})
	if err != nil {
		return nil, err
	}
	up := upstream.New(cfg.Upstream, NewGate(gov, js))
	return &Service{Loader: New(js, arc, up, gov, cfg.AckWait, log), Governor: gov, Upstream: up}, nil
}
