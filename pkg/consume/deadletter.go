package consume

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/metrics"
	"github.com/paddock-f1/paddock/streams"
)

// publishDeadLetter copies msg, with why it was given up, to the DLQ
// stream and waits for the stream's acknowledgement.
func publishDeadLetter(ctx context.Context, js jetstream.JetStream, consumer string, msg jetstream.Msg, md *jetstream.MsgMetadata, deliveries uint64, reason string) error {
	d := &streams.DeadLetter{Subject: msg.Subject(), Consumer: consumer, Deliveries: deliveries, Reason: reason,
		Time: time.Now().UTC(), Data: msg.Data(), Header: msg.Headers()}
	if md != nil {
		d.Stream, d.Sequence = md.Stream, md.Sequence.Stream
	}
	if d.Consumer == "" && md != nil {
		d.Consumer = md.Consumer
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(pctx, d.Msg()); err != nil {
		return fmt.Errorf("consume: dead-letter %s to %s: %w", msg.Subject(), streams.DeadLetterSubject(d.Consumer), err)
	}
	return nil
}

func countRetry(consumer, reason string) { metrics.Retries.WithLabelValues(consumer, reason).Inc() }

func countDeadLetter(consumer, class string) {
	metrics.DeadLetters.WithLabelValues(consumer, class).Inc()
}
