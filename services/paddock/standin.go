package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/paddock-f1/paddock/pkg/standin"
)

// cmdStandin serves a recorded upstream tree until interrupted, printing
// the environment that points services at it.
func cmdStandin(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	dir := fs.String("dir", "testdata/f1/recorded", "recorded upstream tree (one folder per host)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	s, err := standin.New(*dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("standin: listen %s: %w", *addr, err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("PADDOCK_LIVETIMING_URL=%s/livetiming.formula1.com\nPADDOCK_MIRROR_URL=%s/livetiming-mirror.fastf1.dev\nPADDOCK_JOLPICA_URL=%s/api.jolpi.ca\nPADDOCK_GITHUBRAW_URL=%s/raw.githubusercontent.com\nPADDOCK_MULTIVIEWER_URL=%s/api.multiviewer.app\n",
		base, base, base, base, base)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	fmt.Printf("requests answered: %d\n", s.Requests())
	return nil
}
