package ops_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/paddock-f1/paddock/pkg/ops"
)

// TestListenNamesTheTakenPort: a taken port is a bad setting, named with
// the variable it came from and what to do, and exits with code 2.
func TestListenNamesTheTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	_, err = ops.Listen("PADDOCK_HTTP_ADDR", addr)
	want := "PADDOCK_HTTP_ADDR " + addr + ": address already in use: free the port or set PADDOCK_HTTP_ADDR"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if code := ops.ExitCode(err); code != 2 {
		t.Fatalf("exit code %d for a taken port, want 2", code)
	}
	if code := ops.ExitCode(errors.New("nats: no servers available")); code != 1 {
		t.Fatalf("exit code %d for a failure, want 1", code)
	}
	if ln, err := ops.Listen("PADDOCK_HTTP_ADDR", ""); ln != nil || err != nil {
		t.Fatalf("an empty address bound %v, %v", ln, err)
	}
}

// TestServeListenerAnswersAndStops: what Listen bound is served until
// the context ends.
func TestServeListenerAnswersAndStops(t *testing.T) {
	ln, err := ops.Listen("PADDOCK_HTTP_ADDR", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ops.ServeListener(ctx, ln, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
