package testenv

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/streams"
)

// JetStream starts an in-process nats-server with JetStream under a
// temporary directory, applies paddock's topology and returns a client;
// both stop when the test ends.
func JetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	srv, err := natsrv.Start(natsrv.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := srv.Connect(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := streams.Apply(context.Background(), js, 0); err != nil {
		t.Fatal(err)
	}
	return js
}
