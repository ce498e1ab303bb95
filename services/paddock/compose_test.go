package main

import (
	"os"
	"path/filepath"
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
			Deploy      struct {
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
	}
	if r := c.Services["loader"].Deploy.Replicas; r != 1 {
		t.Errorf("loader replicas = %d: exactly one loader may run", r)
	}
}
