package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestComposeFileIsConsistent validates docker-compose.yml without an
// engine: it parses, every paddock container runs a binary this project
// builds, every kind of the registry has its extractor service, the
// loader stays single, and every service gets the NATS and database URLs
// it needs.
func TestComposeFileIsConsistent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.Root(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Environment map[string]string `yaml:"environment"`
			Profiles    []string          `yaml:"profiles"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			Build       struct {
				Target string `yaml:"target"`
			} `yaml:"build"`
			Healthcheck struct {
				Test    []string `yaml:"test"`
				Disable bool     `yaml:"disable"`
			} `yaml:"healthcheck"`
			Deploy struct {
				Replicas int `yaml:"replicas"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	binaries := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(testenv.Root(t), "services"))
	for _, e := range entries {
		binaries[e.Name()] = true
	}
	want := []string{"planner", "loader", "notifier", "migrate", "standin", "cli"}
	for _, name := range kinds.Names() {
		want = append(want, "extract-"+name) // every kind's extractor service
	}
	for _, name := range want {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		argv := append(append([]string{}, s.Entrypoint...), s.Command...)
		if len(argv) == 0 || !binaries[argv[0]] {
			t.Errorf("service %s runs %v: not a binary of services/", name, argv)
		}
		if name != "standin" && (s.Environment["NATS_URL"] == "" || s.Environment["DATABASE_URL"] == "") {
			t.Errorf("service %s lacks NATS_URL or DATABASE_URL", name)
		}
		// Every long-running paddock service is health-checked through
		// 'paddock probe' (the image has no shell) on its /readyz.
		if name != "migrate" && name != "cli" {
			hc := s.Healthcheck.Test
			if len(hc) < 4 || hc[1] != "paddock" || hc[2] != "probe" || !strings.HasPrefix(hc[3], "http://127.0.0.1:") {
				t.Errorf("service %s: healthcheck %v, want paddock probe of its address", name, hc)
			} else if name != "standin" && (!strings.HasSuffix(hc[3], "/readyz") || !strings.Contains(hc[3], s.Environment["PADDOCK_HTTP_ADDR"])) {
				t.Errorf("service %s: healthcheck %s is not /readyz on PADDOCK_HTTP_ADDR %q", name, hc[3], s.Environment["PADDOCK_HTTP_ADDR"])
			}
		}
	}
	if c.Services["standin"].Build.Target != "standin" || c.Services["planner"].Build.Target != "runtime" {
		t.Errorf("only the standin image carries the recorded data: targets %q, %q", c.Services["standin"].Build.Target, c.Services["planner"].Build.Target)
	}

	if r := c.Services["loader"].Deploy.Replicas; r != 1 {
		t.Errorf("loader replicas = %d: exactly one loader may run", r)
	}

	// Prometheus scrapes every service that serves metrics.
	prom, err := os.ReadFile(filepath.Join(testenv.Root(t), "deploy/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		ScrapeConfigs []struct {
			DNS []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(prom, &pc); err != nil || len(pc.ScrapeConfigs) == 0 || len(pc.ScrapeConfigs[0].DNS) == 0 {
		t.Fatalf("deploy/prometheus/prometheus.yml: %v", err)
	}
	scraped := map[string]bool{}
	for _, n := range pc.ScrapeConfigs[0].DNS[0].Names {
		scraped[n] = true
	}
	for _, name := range want {
		if name != "migrate" && name != "cli" && name != "standin" && !scraped[name] {
			t.Errorf("Prometheus does not scrape %s (deploy/prometheus/prometheus.yml)", name)
		}
	}
	if pc.ScrapeConfigs[0].DNS[0].Port != 9090 || c.Services["loader"].Environment["PADDOCK_HTTP_ADDR"] != ":9090" {
		t.Errorf("Prometheus scrapes port %d, the services serve %q", pc.ScrapeConfigs[0].DNS[0].Port, c.Services["loader"].Environment["PADDOCK_HTTP_ADDR"])
	}

	// Grafana is provisioned with the dashboard; the cluster profile runs
	// three NATS nodes on deploy/nats-cluster.conf.
	for _, f := range []string{"deploy/grafana/provisioning/datasources/prometheus.yml", "deploy/grafana/provisioning/dashboards/paddock.yml"} {
		if _, err := os.Stat(filepath.Join(testenv.Root(t), f)); err != nil {
			t.Errorf("grafana provisioning: %v", err)
		}
	}
	if g := c.Services["grafana"]; !slices.ContainsFunc(g.Volumes, func(v string) bool { return strings.HasPrefix(v, "./deploy/grafana/paddock.json:") }) {
		t.Errorf("grafana does not mount the dashboard: %v", g.Volumes)
	}
	nodes := 0
	for name, s := range c.Services {
		if strings.HasPrefix(name, "nats-") && slices.Contains(s.Profiles, "cluster") {
			nodes++
		}
	}
	if nodes != 3 {
		t.Errorf("the cluster profile has %d NATS nodes, want 3", nodes)
	}

	// NATS runs with authorisation, its password from the environment
	// (PADDOCK_NATS_PASSWORD; the dev default is a placeholder the README
	// says to change), every client's NATS_URL carries it, and no port is
	// published beyond localhost.
	nats := c.Services["nats"]
	if cmd := strings.Join(nats.Command, " "); !strings.Contains(cmd, "--user paddock") || !strings.Contains(cmd, "--pass ${PADDOCK_NATS_PASSWORD") {
		t.Errorf("nats runs without authorisation: %v", nats.Command)
	}
	for name, s := range c.Services {
		if u := s.Environment["NATS_URL"]; u != "" && !strings.Contains(u, "paddock:${PADDOCK_NATS_PASSWORD") {
			t.Errorf("service %s: NATS_URL %q does not authenticate with PADDOCK_NATS_PASSWORD", name, u)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q beyond localhost", name, p)
			}
		}
	}
	conf, err := os.ReadFile(filepath.Join(testenv.Root(t), "deploy", "nats-cluster.conf"))
	if err != nil || !strings.Contains(string(conf), "authorization") || !strings.Contains(string(conf), "$PADDOCK_NATS_PASSWORD") {
		t.Errorf("deploy/nats-cluster.conf runs without authorisation from PADDOCK_NATS_PASSWORD (%v)", err)
	}
}

// TestImageIsLeanAndNonRoot checks the Dockerfile and .dockerignore: a
// cached module download, a non-root runtime without test data, and a
// context without what is not built.
func TestImageIsLeanAndNonRoot(t *testing.T) {
	root := testenv.Root(t)
	df, err := os.ReadFile(filepath.Join(root, "deploy/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := strings.Split(string(df), "\nFROM ")
	var runtime, standin string
	for _, st := range stages {
		switch {
		case strings.Contains(st, " AS runtime"):
			runtime = st
		case strings.Contains(st, " AS standin"):
			standin = st
		}
	}
	if !strings.Contains(string(df), "--mount=type=cache,target=/go/pkg/mod") || !strings.Contains(string(df), "go mod download") {
		t.Error("the Dockerfile has no cached module download step")
	}
	if !strings.Contains(runtime, "USER nonroot") || strings.Contains(runtime, "testdata") || !strings.Contains(runtime, ":nonroot") {
		t.Errorf("the runtime stage must be non-root and without test data:\n%s", runtime)
	}
	if !strings.Contains(standin, "testdata/f1/recorded") {
		t.Error("the standin stage lacks the recorded upstream")
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git", "bin", "testdata/f1/reference"} {
		if !slices.Contains(strings.Split(string(ignore), "\n"), p) {
			t.Errorf(".dockerignore does not leave out %s", p)
		}
	}
}
