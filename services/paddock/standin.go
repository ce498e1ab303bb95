package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/paddock-f1/paddock/pkg/standin"
)

// setupStandin is 'paddock standin'.
func setupStandin(fs *flag.FlagSet, cl *cli) runFunc {
	dir := fs.String("dir", "testdata/f1/recorded", "recorded upstream tree (one folder per host)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	return func(ctx context.Context, rest []string) error {
		if len(rest) > 0 {
			return usageError("unexpected argument %q", rest[0])
		}
		return cmdStandin(ctx, cl.out, *dir, *addr)
	}
}

// cmdStandin serves a recorded upstream tree until interrupted, printing
// the environment that points services at it.
func cmdStandin(ctx context.Context, out io.Writer, dir, addr string) error {
	s, err := standin.New(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("standin: listen %s: %w", addr, err)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "PADDOCK_LIVETIMING_URL=%s/livetiming.formula1.com\nPADDOCK_MIRROR_URL=%s/livetiming-mirror.fastf1.dev\nPADDOCK_JOLPICA_URL=%s/api.jolpi.ca\nPADDOCK_GITHUBRAW_URL=%s/raw.githubusercontent.com\nPADDOCK_MULTIVIEWER_URL=%s/api.multiviewer.app\n",
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
	fmt.Fprintf(out, "requests answered: %d\n", s.Requests())
	return nil
}
