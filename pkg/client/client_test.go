package client

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/streams"
)

// TestSubmitAsksAgainWhenThePlannerDiesHoldingIt: a planner that takes
// the request and never answers (it died) does not leave the caller
// waiting out the whole timeout: the command is sent again under the same
// run id, and the next planner's answer is taken.
func TestSubmitAsksAgainWhenThePlannerDiesHoldingIt(t *testing.T) {
	srv, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	defer func(w time.Duration) { acceptWait = w }(acceptWait)
	acceptWait = 200 * time.Millisecond

	var requests atomic.Int32
	var ids []string
	sub, err := nc.Subscribe(streams.PlanSubject, func(m *nats.Msg) {
		var cmd streams.PlanCommand
		if err := streams.Decode(m.Data, &cmd); err != nil {
			t.Error(err)
			return
		}
		ids = append(ids, cmd.RunID)
		if requests.Add(1) == 1 {
			return // the first planner dies holding the request
		}
		_ = m.Respond(streams.Encode(streams.PlanReply{V: streams.SchemaVersion, RunID: cmd.RunID, Accepted: true}))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	start := time.Now()
	reply, err := Submit(context.Background(), nc, streams.PlanCommand{Year: 2019}, time.Minute)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the answer took %s: the first, unanswered request was waited out", took)
	}
	if n := requests.Load(); n != 2 || ids[0] == "" || ids[0] != ids[1] || reply.RunID != ids[0] {
		t.Fatalf("%d requests with run ids %v, reply %+v: want the command sent twice under one run id", n, ids, reply)
	}
}
