package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/paddock-f1/paddock/pkg/secret"
)

// setupProbe is 'paddock probe URL': a health check for containers whose
// image has no shell or curl (docker compose healthchecks). It exits 0
// when URL answers 200 within --timeout, 1 otherwise, saying why.
func setupProbe(fs *flag.FlagSet, cl *cli) runFunc {
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	return func(ctx context.Context, rest []string) error {
		if len(rest) != 1 {
			return usageError("probe needs one URL, e.g. paddock probe http://127.0.0.1:8082/readyz")
		}
		if *timeout <= 0 {
			return usageError("--timeout %s: want a duration over 0, e.g. 3s", *timeout)
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		url := secret.Mask(rest[0]) // a health URL may carry basic-auth credentials
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rest[0], nil)
		if err != nil {
			return usageError("probe %q: %v", url, secret.Err(err))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return &exitError{code: 1, msg: fmt.Sprintf("probe %s: %v", url, secret.Err(err))}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &exitError{code: 1, msg: fmt.Sprintf("probe %s: %s", url, resp.Status)}
		}
		fmt.Fprintln(cl.out, "ok")
		return nil
	}
}
