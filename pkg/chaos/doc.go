// Package chaos runs paddock's services as separate processes through
// random faults and checks that no run is lost: every run ends, every table
// equals a clean run's, nothing is duplicated, nothing waits forever and
// the upstream quota is never exceeded.
//
// The pieces here (a PostgreSQL cluster that can be stopped, a nats-server
// process that can be killed, service processes, table digests, a Slack
// stand-in) are driven by the trials in chaos_test.go, built only with the
// chaos tag: `make chaos` (docs/chaos.md).
package chaos
