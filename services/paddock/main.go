// Command paddock imports Formula 1 timing data into PostgreSQL.
//
//	paddock import --year 2019 --round 14 --session Q --recorded testdata/f1/recorded
//	paddock plan   --year 2024 --kinds weather        (NATS_URL: publish to running services)
//	paddock export weather --year 2019 --round 14 --session Qualifying
//	paddock migrate
//	paddock dev                                        (every service in one process)
//	paddock standin --dir testdata/f1/recorded         (serve a recorded upstream)
//	paddock status [--run ID]                          (recent runs, or one run in detail)
//	paddock help [command], paddock version
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/paddock-f1/paddock/pkg/secret"
	"github.com/paddock-f1/paddock/pkg/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stack.LimitMemory() // most commands run the whole pipeline in this process
	err := run(ctx, os.Args[1:], os.Stdout)
	var exit *exitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		if exit.msg != "" {
			fmt.Fprintln(os.Stderr, "paddock:", secret.Mask(exit.msg))
		}
		os.Exit(exit.code)
	default:
		fmt.Fprintln(os.Stderr, "paddock:", secret.Err(err)) // the last guard: no error prints a secret
		os.Exit(1)
	}
}

// exitError ends the process with code after printing msg.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}
