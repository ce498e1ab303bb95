// Command extract-laps is the extractor service of the laps kind: see
// pkg/kinds/laps for what it reads and writes.
// Run as many instances as needed; they share one durable consumer.
//
// Configuration (environment): NATS_URL, DATABASE_URL, PADDOCK_CONCURRENCY
// (messages handled at once per instance, default 4), PADDOCK_HTTP_ADDR
// (default 127.0.0.1:8084, this machine only), PADDOCK_LOG_LEVEL.
package main

import (
	"os"

	"github.com/paddock-f1/paddock/pkg/extractor"
)

func main() { os.Exit(extractor.Main("laps", "127.0.0.1:8084")) }
