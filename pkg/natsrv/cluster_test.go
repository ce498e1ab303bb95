package natsrv_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/governor"
	"github.com/paddock-f1/paddock/streams"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestTopologyOnThreeNodeCluster applies paddock's topology with three
// replicas on a 3-node JetStream cluster, spends quota and archives a
// response, then loses a node: the ledger and the archive keep working.
func TestTopologyOnThreeNodeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	routes := make([]int, 3)
	for i := range routes {
		routes[i] = freePort(t)
	}
	var urls string
	var nodes []*server.Server
	for i := 0; i < 3; i++ {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "paddock", Host: "127.0.0.1", Port: routes[i]},
			Routes:  server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d", routes[0], routes[1], routes[2])),
		}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("node %d not ready", i+1)
		}
		nodes = append(nodes, ns)
		if urls != "" {
			urls += ","
		}
		urls += ns.ClientURL()
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Shutdown()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		leader := false
		for _, n := range nodes {
			leader = leader || n.JetStreamIsLeader()
		}
		if leader {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream meta leader after 20s (routes: %d, %d, %d)", nodes[0].NumRoutes(), nodes[1].NumRoutes(), nodes[2].NumRoutes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for { // the stream placement may need a moment after the election
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		err = streams.Apply(actx, js, 3)
		acancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("apply on the cluster: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s, err := js.Stream(ctx, streams.Gaps)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("GAPS replicas: %+v %v", info, err)
	}
	gov, err := governor.New(ctx, js, governor.Config{Window: time.Hour, Replicas: 3,
		Limits: map[string]governor.Limit{"example.test": {PerWindow: 10}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := gov.Acquire(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := arc.Put(ctx, "example.test", "/a", 200, "example.test", []byte("body")); err != nil {
		t.Fatal(err)
	}

	// Lose a node: two of three still make a quorum. Each attempt gets a
	// few seconds, as the services' calls do (the client may have to
	// reconnect and a new stream leader be elected first).
	retry := func(what string, f func(context.Context) error) {
		t.Helper()
		for {
			actx, acancel := context.WithTimeout(ctx, 3*time.Second)
			err := f(actx)
			acancel()
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s after losing a node: %v", what, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	nodes[2].Shutdown()
	retry("acquire", func(c context.Context) error { return gov.Acquire(c, "example.test") })
	retry("archive", func(c context.Context) error {
		body, _, err := arc.Get(c, "example.test/a", "")
		if err == nil && string(body) != "body" {
			return fmt.Errorf("body %q", body)
		}
		return err
	})
	retry("ledger", func(c context.Context) error {
		st, err := gov.Status(c)
		if err == nil && st[0].CallsMade != 2 {
			t.Fatalf("ledger after losing a node: %d calls, want 2", st[0].CallsMade)
		}
		return err
	})
}
