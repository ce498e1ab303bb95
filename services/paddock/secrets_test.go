package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/paddock-f1/paddock/pkg/natsrv"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

// The secrets planted in the environment and flags of every command; none
// may appear in anything a process prints.
const (
	plantedNATSPassword = "natsPW-7f3a9c41"
	plantedNATSToken    = "natsTOKEN-0b9d77e2"
	plantedDBPassword   = "dbPW-52e1b8aa"
	plantedSlackToken   = "slackTOKEN-c4d2e6f0"
	plantedProbePass    = "probePW-9a8b7c6d"
)

var plantedSecrets = []string{plantedNATSPassword, plantedNATSToken, plantedDBPassword, plantedSlackToken, plantedProbePass}

// leakRun is one process run of the secrets test.
type leakRun struct {
	name string
	bin  string   // binary under binaries(t)
	args []string // its arguments
	env  []string // added to the base environment (later entries win)
	// until, for a long-running process, is what its output shows (or
	// ready says) before it is sent SIGTERM; "" = it ends by itself.
	until string
	ready func() error
}

// TestNoSecretInOutput plants a NATS password and token, a PostgreSQL
// password and a Slack webhook token in the environment and flags, runs
// every paddock command and every service's start path, in success and
// in failure (NATS unreachable, DATABASE_URL unparsable, Slack answering
// 500 or unreachable), at debug level, and fails if any secret appears in
// what any process printed.
func TestNoSecretInOutput(t *testing.T) {
	bin := binaries(t)
	dir := t.TempDir()

	// NATS that wants user and password; PostgreSQL trusts any password.
	ns, err := natsrv.Start(natsrv.Options{StoreDir: filepath.Join(dir, "nats"), Port: -1, Username: "paddock", Password: plantedNATSPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	hostPort := strings.TrimPrefix(ns.ClientURL(), "nats://")
	goodNATS := "nats://paddock:" + plantedNATSPassword + "@" + hostPort
	deadNATS := "nats://paddock:" + plantedNATSPassword + "@" + freeAddr(t)
	tokenNATS := "nats://" + plantedNATSToken + "@" + freeAddr(t)
	db := testenv.Database(t)
	if !strings.Contains(db, "postgres@") {
		t.Fatalf("test database URL %q has no user to give a password", db)
	}
	goodDB := strings.Replace(db, "postgres@", "postgres:"+plantedDBPassword+"@", 1)
	badDB := "postgres://postgres:" + plantedDBPassword + "@127.0.0.1:notaport/paddock"
	dsnDB := "host=127.0.0.1 port=notaport user=postgres password=" + plantedDBPassword + " dbname=paddock"

	var slackHits atomic.Int32
	slack500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slackHits.Add(1)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}))
	t.Cleanup(slack500.Close)
	slackFailing := slack500.URL + "/services/T0PADDOCK/B0PADDOCK/" + plantedSlackToken
	slackDown := "http://" + freeAddr(t) + "/services/T0PADDOCK/B0PADDOCK/" + plantedSlackToken

	base := append(os.Environ(), "PADDOCK_LOG_LEVEL=debug", "PADDOCK_DATA_DIR="+filepath.Join(dir, "data"),
		"NATS_URL="+goodNATS, "DATABASE_URL="+goodDB, "SLACK_WEBHOOK_URL="+slackFailing)
	recorded := testenv.Recorded(t)

	// Service runs: each starts, is stopped once it showed what the case
	// is about, and prints its stop.
	var runs []leakRun
	for _, svc := range []string{"planner", "loader", "notifier", "extract-weather"} {
		addr := freeAddr(t)
		runs = append(runs,
			leakRun{name: svc + " ready", bin: svc, env: []string{"PADDOCK_HTTP_ADDR=" + addr}, ready: httpOK("http://" + addr + "/readyz")},
			leakRun{name: svc + " NATS unreachable", bin: svc, env: []string{"NATS_URL=" + deadNATS, "PADDOCK_HTTP_ADDR=127.0.0.1:0"}, until: "starting"},
			leakRun{name: svc + " NATS token unreachable", bin: svc, env: []string{"NATS_URL=" + tokenNATS, "PADDOCK_HTTP_ADDR=127.0.0.1:0"}, until: "starting"},
		)
		if svc == "planner" || svc == "extract-weather" {
			runs = append(runs,
				leakRun{name: svc + " DATABASE_URL unparsable", bin: svc, env: []string{"DATABASE_URL=" + badDB, "PADDOCK_HTTP_ADDR=127.0.0.1:0"}},
				leakRun{name: svc + " DATABASE_URL key=value unparsable", bin: svc, env: []string{"DATABASE_URL=" + dsnDB, "PADDOCK_HTTP_ADDR=127.0.0.1:0"}},
			)
		}
	}

	// Every command of the CLI, with the secrets set, working and failing.
	embedded := []string{"NATS_URL="}
	imp := []string{"--year", "2019", "--round", "14", "--session", "Qualifying", "--kinds", "weather"}
	for _, c := range commands() {
		switch c.name {
		case "import":
			runs = append(runs,
				leakRun{name: "import embedded, Slack 500", bin: "paddock", env: embedded, args: append([]string{"import", "--notify", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb1")}, imp...)},
				leakRun{name: "import embedded, Slack unreachable", bin: "paddock", env: append(embedded, "SLACK_WEBHOOK_URL="+slackDown), args: append([]string{"import", "--notify", "--force", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb1")}, imp...)},
				leakRun{name: "import no planner", bin: "paddock", args: append([]string{"import", "--timeout", "2s"}, imp...)},
				leakRun{name: "import NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: append([]string{"import"}, imp...)},
				leakRun{name: "import DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: append([]string{"import", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb2")}, imp...)},
			)
		case "gaps":
			runs = append(runs,
				leakRun{name: "gaps", bin: "paddock", args: []string{"gaps", "--year", "2019", "--round", "14"}},
				leakRun{name: "gaps NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"gaps", "--year", "2019"}},
				leakRun{name: "gaps embedded DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: []string{"gaps", "--year", "2019", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb3")}},
			)
		case "plan":
			runs = append(runs,
				leakRun{name: "plan no planner", bin: "paddock", args: []string{"plan", "--year", "2019", "--timeout", "2s"}},
				leakRun{name: "plan NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"plan", "--year", "2019"}},
				leakRun{name: "plan NATS token unreachable", bin: "paddock", env: []string{"NATS_URL=" + tokenNATS}, args: []string{"plan", "--year", "2019"}},
			)
		case "status":
			runs = append(runs,
				leakRun{name: "status", bin: "paddock", args: []string{"status"}},
				leakRun{name: "status unknown run", bin: "paddock", args: []string{"status", "--run", "nope"}},
				leakRun{name: "status DATABASE_URL unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + badDB}, args: []string{"status"}},
				leakRun{name: "status DATABASE_URL key=value unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + dsnDB}, args: []string{"status"}},
			)
		case "export":
			runs = append(runs,
				leakRun{name: "export", bin: "paddock", args: []string{"export", "weather", "--year", "2019", "--round", "14", "--session", "Qualifying"}},
				leakRun{name: "export DATABASE_URL unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + badDB}, args: []string{"export", "weather", "--year", "2019", "--round", "14", "--session", "Qualifying"}},
			)
		case "quota":
			runs = append(runs,
				leakRun{name: "quota", bin: "paddock", args: []string{"quota"}},
				leakRun{name: "quota NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"quota"}},
			)
		case "dlq":
			runs = append(runs,
				leakRun{name: "dlq ls", bin: "paddock", args: []string{"dlq", "ls"}},
				leakRun{name: "dlq ls NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"dlq", "ls"}},
				leakRun{name: "dlq replay NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"dlq", "replay", "1"}},
				leakRun{name: "dlq replay DATABASE_URL unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + badDB}, args: []string{"dlq", "replay", "1"}},
				leakRun{name: "dlq replay embedded DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: []string{"dlq", "replay", "--all", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb6")}},
			)
		case "replay":
			one := []string{"replay", "weather", "--year", "2019", "--round", "14", "--session", "Qualifying"}
			runs = append(runs,
				leakRun{name: "replay embedded, Slack 500", bin: "paddock", env: embedded, args: append(append([]string(nil), one...), "--notify", "--data-dir", filepath.Join(dir, "emb1"))},
				leakRun{name: "replay no planner", bin: "paddock", args: append(append([]string(nil), one...), "--timeout", "2s")},
				leakRun{name: "replay NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: one},
				leakRun{name: "replay DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: []string{"replay", "weather", "--data-dir", filepath.Join(dir, "emb7")}},
			)
		case "migrate":
			runs = append(runs,
				leakRun{name: "migrate", bin: "paddock", args: []string{"migrate"}},
				leakRun{name: "migrate NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"migrate"}},
				leakRun{name: "migrate DATABASE_URL unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + badDB}, args: []string{"migrate"}},
				leakRun{name: "migrate DATABASE_URL key=value unparsable", bin: "paddock", env: []string{"DATABASE_URL=" + dsnDB}, args: []string{"migrate"}},
			)
		case "dev":
			addr := freeAddr(t)
			runs = append(runs,
				leakRun{name: "dev on NATS_URL", bin: "paddock", args: []string{"dev", "--http-addr", addr}, ready: httpOK("http://" + addr + "/readyz")},
				leakRun{name: "dev NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"dev", "--http-addr", "127.0.0.1:0"}, until: "starting"},
				leakRun{name: "dev DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: []string{"dev", "--http-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "emb4")}},
			)
		case "watch":
			runs = append(runs,
				leakRun{name: "watch on NATS_URL", bin: "paddock", args: []string{"watch", "--year", "2019", "--every", "1s"}, until: "watching"},
				leakRun{name: "watch NATS unreachable", bin: "paddock", env: []string{"NATS_URL=" + deadNATS}, args: []string{"watch"}, until: "starting"},
				leakRun{name: "watch embedded DATABASE_URL unparsable", bin: "paddock", env: append(embedded, "DATABASE_URL="+badDB), args: []string{"watch", "--recorded", recorded, "--data-dir", filepath.Join(dir, "emb5")}},
			)
		case "standin":
			addr := freeAddr(t)
			runs = append(runs, leakRun{name: "standin", bin: "paddock", args: []string{"standin", "--dir", recorded, "--addr", addr}, until: "PADDOCK_LIVETIMING_URL"})
		case "probe":
			runs = append(runs,
				leakRun{name: "probe unreachable", bin: "paddock", args: []string{"probe", "http://health:" + plantedProbePass + "@" + freeAddr(t) + "/readyz"}},
				leakRun{name: "probe 500", bin: "paddock", args: []string{"probe", strings.Replace(slack500.URL, "http://", "http://health:"+plantedProbePass+"@", 1) + "/readyz"}},
			)
		case "version", "help":
			runs = append(runs, leakRun{name: c.name, bin: "paddock", args: []string{c.name}})
		default:
			t.Errorf("command %q has no case in TestNoSecretInOutput: add its success and failure runs", c.name)
		}
	}
	runs = append(runs, leakRun{name: "help with bad flag", bin: "paddock", args: []string{"import", "--nats", goodNATS}})

	for _, r := range runs {
		out := runForLeaks(t, bin, base, r)
		for _, s := range plantedSecrets {
			if i := strings.Index(out, s); i >= 0 {
				t.Errorf("%s: secret %q printed: …%s…", r.name, s, out[max(0, i-120):min(len(out), i+len(s)+40)])
			}
		}
	}

	// The notifier posting to Slack, which answers 500 (the webhook URL
	// in an error) and then is gone (the URL in a url.Error).
	for _, hook := range []string{slackFailing, slackDown} {
		before := slackHits.Load()
		cmd, out := startForLeaks(t, bin, base, leakRun{name: "notifier posting", bin: "notifier", env: []string{"SLACK_WEBHOOK_URL=" + hook, "PADDOCK_HTTP_ADDR=127.0.0.1:0"}})
		nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo("paddock", plantedNATSPassword))
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		waitFor(t, 30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := js.Stream(ctx, streams.Events)
			return err
		})
		id := fmt.Sprintf("leak-%d", time.Now().UnixNano())
		if _, err := js.Publish(context.Background(), streams.RunEvent(id, streams.RunCompleted), streams.Encode(&streams.Summary{V: 1, RunID: id, Year: 2019, Status: "completed", Notify: true})); err != nil {
			t.Fatal(err)
		}
		nc.Close()
		waitFor(t, 30*time.Second, func() error {
			if hook == slackFailing && slackHits.Load() == before {
				return fmt.Errorf("Slack not asked yet")
			}
			if !strings.Contains(out.String(), "Slack") {
				return fmt.Errorf("no failed post logged yet:\n%s", out.String())
			}
			return nil
		})
		text := stopForLeaks(t, cmd, out)
		for _, s := range plantedSecrets {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("notifier posting to %s: secret %q printed: …%s…", hook[:10], s, text[max(0, i-120):min(len(text), i+len(s)+40)])
			}
		}
	}
}

// httpOK is a readiness poll of url.
func httpOK(url string) func() error {
	return func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
}

// runForLeaks runs r to its end (a long-running one until it shows
// r.until or r.ready passes, then SIGTERM) and returns everything it
// printed.
func runForLeaks(t *testing.T, bin string, base []string, r leakRun) string {
	t.Helper()
	cmd, out := startForLeaks(t, bin, base, r)
	if r.until == "" && r.ready == nil {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s: still running after 60s:\n%s", r.name, out.String())
		}
		return out.String()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if r.ready != nil {
			err = r.ready()
		} else if !strings.Contains(out.String(), r.until) {
			err = fmt.Errorf("no %q yet", r.until)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: not there after 30s: %v; output:\n%s", r.name, err, out.String())
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return stopForLeaks(t, cmd, out)
}

func startForLeaks(t *testing.T, bin string, base []string, r leakRun) (*exec.Cmd, *testenv.Output) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, r.bin), r.args...)
	cmd.Env = append(append([]string(nil), base...), r.env...)
	out := &testenv.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out
}

// stopForLeaks sends SIGTERM and returns the output once the process ended.
func stopForLeaks(t *testing.T, cmd *exec.Cmd, out *testenv.Output) string {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%s did not stop within 30s of SIGTERM", filepath.Base(cmd.Path))
	}
	return out.String()
}
