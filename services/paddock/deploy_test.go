package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// The tests below validate deploy/k8s (the Kubernetes manifests) and
// deploy/grafana (the dashboard) without a cluster: every document parses,
// every kustomization names files that exist, and the base and each overlay,
// assembled here the way kustomize would (resources, generators, replicas),
// run every service of services/ as the README describes it. Where kubectl or
// kustomize is installed, each overlay is also built by the real thing and
// its output checked the same way.

// TestDeployManifestsParse parses every YAML document under deploy/k8s: a
// Kubernetes object or kustomization (apiVersion, kind, and a name for
// objects) or a JSON 6902 patch (a list of operations with a path).
func TestDeployManifestsParse(t *testing.T) {
	root := filepath.Join(testenv.Root(t), "deploy", "k8s")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAML(path) {
			return err
		}
		docs, err := readYAMLDocs(path)
		if err != nil {
			t.Errorf("%s: %v", rel(root, path), err)
			return nil
		}
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", rel(root, path))
		}
		for i, doc := range docs {
			n++
			if err := checkDocShape(doc); err != nil {
				t.Errorf("%s, document %d: %v", rel(root, path), i+1, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no YAML document under %s", root)
	}
}

// TestDeployKustomizationsReferenceExistingFiles checks every kustomization
// under deploy/k8s: its resources, patches and generator files exist (a
// generator's env file that holds secrets may instead exist as
// <file>.example while the file itself is git-ignored), and its replicas and
// patch targets name resources it has.
func TestDeployKustomizationsReferenceExistingFiles(t *testing.T) {
	root := filepath.Join(testenv.Root(t), "deploy", "k8s")
	var dirs []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return err
	})
	for _, want := range []string{"base", "overlays/dev", "overlays/production"} {
		if !slices.Contains(dirs, filepath.Join(root, filepath.FromSlash(want))) {
			t.Errorf("deploy/k8s/%s/kustomization.yaml missing", want)
		}
	}
	for _, dir := range dirs {
		name := rel(root, dir)
		k, err := readKustomization(dir)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, r := range append(append([]string{}, k.Resources...), k.Components...) {
			p := filepath.Join(dir, r)
			st, err := os.Stat(p)
			switch {
			case err != nil:
				t.Errorf("%s: resource %s: %v", name, r, err)
			case st.IsDir():
				if _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); err != nil {
					t.Errorf("%s: resource %s is a folder without kustomization.yaml", name, r)
				}
			}
		}
		files := append([]string{}, k.PatchesStrategicMerge...)
		for _, p := range k.Patches {
			if p.Path == "" && p.Patch == "" {
				t.Errorf("%s: a patch with neither path nor patch", name)
			}
			if p.Path != "" {
				files = append(files, p.Path)
			}
		}
		for _, g := range append(append([]generator{}, k.ConfigMapGenerator...), k.SecretGenerator...) {
			for _, f := range g.Files {
				files = append(files, generatorFile(f))
			}
			for _, f := range g.Envs {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, f+".example")); err != nil {
					t.Errorf("%s: generator %s: neither %s nor %s.example exists", name, g.Name, f, f)
				}
				if !gitIgnores(dir, f) {
					t.Errorf("%s: generator %s reads %s, made from %s.example: list it in %s/.gitignore", name, g.Name, f, f, name)
				}
			}
		}
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}

		// What the replicas and patches refer to.
		set, err := assemble(dir)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, r := range k.Replicas {
			if set.find("Deployment", r.Name) == nil && set.find("StatefulSet", r.Name) == nil {
				t.Errorf("%s: replicas of %s, which is no Deployment or StatefulSet of it", name, r.Name)
			}
		}
		for _, p := range k.Patches {
			if p.Target == nil {
				continue
			}
			if len(set.match(*p.Target)) == 0 {
				t.Errorf("%s: patch %s targets %+v, which matches nothing", name, p.Path, *p.Target)
			}
		}
	}
}

// TestDeployBaseRunsEveryService checks the base as kustomize assembles it:
// one Deployment per service folder (probes, metrics, requests, the database
// secret, NATS), the single loader, the migrate Job, NATS as a three-node
// JetStream cluster and three stream replicas.
func TestDeployBaseRunsEveryService(t *testing.T) {
	set := mustAssemble(t, "base")
	checkPaddock(t, set)
	for _, c := range set.containers() {
		if c.Image != "nats:2.11" && c.Image != "paddock:dev" {
			t.Errorf("container %s runs image %s: want paddock:dev (deploy/Dockerfile)", c.Name, c.Image)
		}
	}
}

// TestDeployDevOverlay checks overlays/dev: the base's services with one
// instance of each extractor, and the recorded upstream (paddock standin)
// that every upstream URL points at.
func TestDeployDevOverlay(t *testing.T) {
	set := mustAssemble(t, "overlays/dev")
	checkPaddock(t, set)
	checkDev(t, set)
}

// TestDeployProductionOverlay checks overlays/production: the real upstream
// (no stand-in, no upstream URL set) and more instances of every extractor.
func TestDeployProductionOverlay(t *testing.T) {
	set := mustAssemble(t, "overlays/production")
	checkPaddock(t, set)
	checkProduction(t, set, false)
}

// TestDeployOverlaysBuild builds the base and each overlay with kustomize
// (kubectl kustomize, or kustomize build) when either is installed, and
// checks what it outputs as the tests above check the assembled sets, plus
// the patches only a real build applies (production's limits). The tree is
// copied first, so the production overlay's git-ignored secrets.env can be
// made from its example.
func TestDeployOverlaysBuild(t *testing.T) {
	build := kustomizeCommand()
	if build == nil {
		t.Skip("neither kubectl nor kustomize is installed: the overlays are not built (the other Deploy tests still check them)")
	}
	src := filepath.Join(testenv.Root(t), "deploy", "k8s")
	dst := filepath.Join(t.TempDir(), "k8s")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".example") {
			if _, err := os.Stat(strings.TrimSuffix(path, ".example")); errors.Is(err, fs.ErrNotExist) {
				b, _ := os.ReadFile(path)
				return os.WriteFile(strings.TrimSuffix(path, ".example"), b, 0o600)
			}
		}
		return err
	})
	for _, dir := range []string{"base", "overlays/dev", "overlays/production"} {
		t.Run(strings.ReplaceAll(dir, "/", "-"), func(t *testing.T) {
			args := append(append([]string{}, build[1:]...), filepath.Join(dst, filepath.FromSlash(dir)))
			cmd := exec.Command(build[0], args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
			}
			set, err := parseManifests("kustomize build "+dir, out)
			if err != nil {
				t.Fatal(err)
			}
			checkPaddock(t, set)
			switch dir {
			case "overlays/dev":
				checkDev(t, set)
			case "overlays/production":
				checkProduction(t, set, true)
			}
		})
	}
}

// services are the Deployments the manifests must have: every folder of
// services/ but the CLI, which must include planner, loader, notifier and
// one extractor per kind of the registry.
func services(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(testenv.Root(t), "services"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "paddock" {
			names = append(names, e.Name())
		}
	}
	want := []string{"planner", "loader", "notifier"}
	for _, k := range kinds.Names() {
		want = append(want, "extract-"+k)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("services/%s missing: the manifests cannot run it", w)
		}
	}
	return names
}

// checkPaddock checks what every assembled or built set must hold.
func checkPaddock(t *testing.T, set *manifests) {
	t.Helper()
	for _, name := range services(t) {
		d := set.find("Deployment", name)
		if d == nil {
			t.Errorf("%s: no Deployment %s", set.origin, name)
			continue
		}
		checkService(t, set, d)
		if strings.HasPrefix(name, "extract-") || name == "planner" {
			if set.budgetFor(d) == nil {
				t.Errorf("%s: no PodDisruptionBudget selects the pods of %s", set.origin, name)
			}
		}
	}
	if l := set.find("Deployment", "loader"); l != nil {
		if l.Spec.Replicas == nil || *l.Spec.Replicas != 1 {
			t.Errorf("%s: loader replicas = %v: exactly one loader may run", set.origin, deref(l.Spec.Replicas))
		}
		if l.Spec.Strategy.Type != "Recreate" {
			t.Errorf("%s: loader strategy %q: Recreate, so a rollout never runs two loaders", set.origin, l.Spec.Strategy.Type)
		}
	}
	checkMigrate(t, set)
	checkNATS(t, set)
}

// checkService checks the Deployment of one service of services/.
func checkService(t *testing.T, set *manifests, d *object) {
	t.Helper()
	name := d.Metadata.Name
	where := set.origin + ": Deployment " + name
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 1 {
		t.Errorf("%s: replicas %v: set it, at least 1", where, deref(d.Spec.Replicas))
	}
	if err := d.selects(d.Spec.Template.Metadata.Labels); err != nil {
		t.Errorf("%s: %v", where, err)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("%s: %d containers, want 1", where, len(d.Spec.Template.Spec.Containers))
		return
	}
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Command, []string{name}) || len(c.Args) != 0 {
		t.Errorf("%s: runs %q %q: want the binary %s (services/%s)", where, c.Command, c.Args, name, name)
	}

	// The ops endpoints: PADDOCK_HTTP_ADDR's port is the probes' and Prometheus'.
	addr, ok := set.env(c, "PADDOCK_HTTP_ADDR")
	_, port, err := splitPort(addr)
	if !ok || err != nil {
		t.Errorf("%s: PADDOCK_HTTP_ADDR %q: set it to the ops endpoints' address (e.g. :8084)", where, addr)
		return
	}
	if !slices.ContainsFunc(c.Ports, func(p containerPort) bool { return p.ContainerPort == port }) {
		t.Errorf("%s: no container port %d (PADDOCK_HTTP_ADDR)", where, port)
	}
	for _, p := range []struct {
		probe *probe
		kind  string
		path  string
	}{{c.ReadinessProbe, "readiness", "/readyz"}, {c.LivenessProbe, "liveness", "/healthz"}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("%s: no %s probe GET %s", where, p.kind, p.path)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("%s: %s probe GET %s, want %s", where, p.kind, p.probe.HTTPGet.Path, p.path)
		case c.resolvePort(p.probe.HTTPGet.Port) != port:
			t.Errorf("%s: %s probe on port %v, but the service listens on %d", where, p.kind, p.probe.HTTPGet.Port, port)
		}
	}
	a := d.Spec.Template.Metadata.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(port) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("%s: prometheus.io annotations %v: want scrape \"true\", port \"%d\", path /metrics", where, a, port)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
		t.Errorf("%s: resource requests %v: want cpu and memory", where, c.Resources.Requests)
	}
	checkConnections(t, set, where, c)
}

// checkConnections checks a paddock container's DATABASE_URL (from a
// Secret that has it), NATS_URL (a Service of the set on that port) and
// PADDOCK_STREAM_REPLICAS (3: one replica per NATS server).
func checkConnections(t *testing.T, set *manifests, where string, c container) {
	t.Helper()
	ref := c.secretRef("DATABASE_URL")
	switch {
	case ref == nil:
		t.Errorf("%s: DATABASE_URL is not from a secretKeyRef", where)
	case ref.Optional:
		t.Errorf("%s: DATABASE_URL's secretKeyRef is optional", where)
	default:
		s := set.find("Secret", ref.Name)
		if s == nil {
			t.Errorf("%s: DATABASE_URL from Secret %s, which is missing", where, ref.Name)
		} else if _, ok := s.secretData()[ref.Key]; !ok {
			t.Errorf("%s: DATABASE_URL from Secret %s, which has no key %s", where, ref.Name, ref.Key)
		}
	}
	nats, ok := set.env(c, "NATS_URL")
	if !ok || nats == "" {
		t.Errorf("%s: NATS_URL not set", where)
	} else if u, err := url.Parse(nats); err != nil || u.Scheme != "nats" {
		t.Errorf("%s: NATS_URL %q: want nats://<service>:<port>", where, nats)
	} else if port, _ := strconv.Atoi(u.Port()); !set.serves(u.Hostname(), port) {
		t.Errorf("%s: NATS_URL %s: no Service %s on port %s", where, nats, u.Hostname(), u.Port())
	}
	if r, _ := set.env(c, "PADDOCK_STREAM_REPLICAS"); r != "3" {
		t.Errorf("%s: PADDOCK_STREAM_REPLICAS = %q, want \"3\" (the three NATS servers)", where, r)
	}
}

// checkMigrate checks the Job that runs `paddock migrate`.
func checkMigrate(t *testing.T, set *manifests) {
	t.Helper()
	var job *object
	var migrate container
	for _, o := range set.of("Job") {
		for _, c := range o.Spec.Template.Spec.Containers {
			if slices.Equal(c.Command, []string{"paddock", "migrate"}) {
				job, migrate = o, c
			}
		}
	}
	if job == nil {
		t.Errorf("%s: no Job runs paddock migrate", set.origin)
		return
	}
	if rp := job.Spec.Template.Spec.RestartPolicy; rp != "Never" && rp != "OnFailure" {
		t.Errorf("%s: Job %s restartPolicy %q", set.origin, job.Metadata.Name, rp)
	}
	checkConnections(t, set, set.origin+": Job "+job.Metadata.Name, migrate)
}

// checkNATS checks the NATS the services' NATS_URL names: a StatefulSet of
// three JetStream servers (nats:2.11, -js) routed to each other through a
// headless Service, each with a volume for its store.
func checkNATS(t *testing.T, set *manifests) {
	t.Helper()
	sts := set.find("StatefulSet", "nats")
	if sts == nil {
		t.Errorf("%s: no StatefulSet nats", set.origin)
		return
	}
	where := set.origin + ": StatefulSet nats"
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
		t.Errorf("%s: replicas %v, want 3", where, deref(sts.Spec.Replicas))
	}
	if err := sts.selects(sts.Spec.Template.Metadata.Labels); err != nil {
		t.Errorf("%s: %v", where, err)
	}
	if len(sts.Spec.Template.Spec.Containers) == 0 {
		t.Errorf("%s: no container", where)
		return
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if !strings.HasPrefix(c.Image, "nats:2.11") {
		t.Errorf("%s: image %s, want nats:2.11", where, c.Image)
	}
	if !slices.Contains(c.Args, "-js") {
		t.Errorf("%s: args %q lack -js", where, c.Args)
	}
	headless := set.find("Service", sts.Spec.ServiceName)
	if headless == nil || headless.Spec.ClusterIP != "None" {
		t.Errorf("%s: serviceName %q is no headless Service (clusterIP: None)", where, sts.Spec.ServiceName)
	} else if err := headless.selectsService(sts.Spec.Template.Metadata.Labels); err != nil {
		t.Errorf("%s: headless Service %s: %v", where, headless.Metadata.Name, err)
	}

	// The routes: one per pod, by its name under the headless Service, in
	// the args or the config file they name.
	conf := strings.Join(c.Args, " ")
	if i := slices.Index(c.Args, "--config"); i >= 0 && i+1 < len(c.Args) {
		text, err := set.mountedFile(sts, c, c.Args[i+1])
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		conf += "\n" + text
	}
	for i := range 3 {
		route := fmt.Sprintf("nats-%d.%s:6222", i, sts.Spec.ServiceName)
		if !strings.Contains(conf, route) {
			t.Errorf("%s: no cluster route to %s", where, route)
		}
	}
	if len(sts.Spec.VolumeClaimTemplates) == 0 {
		t.Errorf("%s: no volumeClaimTemplates: the JetStream store needs a persistent volume per server", where)
	}
	for _, v := range sts.Spec.VolumeClaimTemplates {
		if !slices.ContainsFunc(c.VolumeMounts, func(m volumeMount) bool { return m.Name == v.Metadata.Name }) {
			t.Errorf("%s: volume claim %s is not mounted", where, v.Metadata.Name)
		}
	}
}

// checkDev checks what overlays/dev adds: one instance of each extractor and
// every upstream URL on the stand-in's Service.
func checkDev(t *testing.T, set *manifests) {
	t.Helper()
	for _, d := range set.of("Deployment") {
		if strings.HasPrefix(d.Metadata.Name, "extract-") && deref(d.Spec.Replicas) != 1 {
			t.Errorf("%s: %s replicas %d, want 1", set.origin, d.Metadata.Name, deref(d.Spec.Replicas))
		}
	}
	standin := set.find("Deployment", "standin")
	if standin == nil {
		t.Fatalf("%s: no Deployment standin", set.origin)
	}
	c := standin.Spec.Template.Spec.Containers[0]
	if want := []string{"paddock", "standin", "--dir", "/srv/recorded", "--addr", "0.0.0.0:8080"}; !slices.Equal(c.Command, want) {
		t.Errorf("%s: standin runs %q, want %q", set.origin, c.Command, want)
	}
	loader := set.find("Deployment", "loader")
	if loader == nil {
		return
	}
	for _, v := range upstreamURLs {
		u, _ := set.env(loader.Spec.Template.Spec.Containers[0], v)
		p, err := url.Parse(u)
		if port, _ := strconv.Atoi(p.Port()); err != nil || u == "" || !set.serves(p.Hostname(), port) || port != 8080 {
			t.Errorf("%s: the loader's %s = %q: want http://standin:8080/<host>", set.origin, v, u)
		}
	}
}

// upstreamURLs are the variables that move the upstream hosts.
var upstreamURLs = []string{"PADDOCK_LIVETIMING_URL", "PADDOCK_MIRROR_URL", "PADDOCK_JOLPICA_URL", "PADDOCK_GITHUBRAW_URL", "PADDOCK_MULTIVIEWER_URL"}

// checkProduction checks what overlays/production adds: the real upstream,
// more instances of each extractor and, in a real build (patches applied),
// limits on every container.
func checkProduction(t *testing.T, set *manifests, built bool) {
	t.Helper()
	if set.find("Deployment", "standin") != nil {
		t.Errorf("%s: a stand-in in production", set.origin)
	}
	for _, d := range set.of("Deployment") {
		c := d.Spec.Template.Spec.Containers[0]
		for _, v := range upstreamURLs {
			if u, ok := set.env(c, v); ok {
				t.Errorf("%s: %s sets %s=%s: production uses the real upstream", set.origin, d.Metadata.Name, v, u)
			}
		}
		if strings.HasPrefix(d.Metadata.Name, "extract-") && deref(d.Spec.Replicas) < 2 {
			t.Errorf("%s: %s replicas %d: want at least 2", set.origin, d.Metadata.Name, deref(d.Spec.Replicas))
		}
	}
	if !built {
		return
	}
	for _, o := range set.objects {
		for _, c := range o.Spec.Template.Spec.Containers {
			if c.Resources.Limits["cpu"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("%s: %s %s, container %s: limits %v, want cpu and memory", set.origin, o.Kind, o.Metadata.Name, c.Name, c.Resources.Limits)
			}
		}
	}
}

// kustomizeCommand is the command that builds a kustomization, or nil.
func kustomizeCommand() []string {
	if p, err := exec.LookPath("kustomize"); err == nil {
		return []string{p, "build"}
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return []string{p, "kustomize"}
	}
	return nil
}

func mustAssemble(t *testing.T, dir string) *manifests {
	t.Helper()
	set, err := assemble(filepath.Join(testenv.Root(t), "deploy", "k8s", filepath.FromSlash(dir)))
	if err != nil {
		t.Fatal(err)
	}
	set.origin = "deploy/k8s/" + dir
	return set
}

// kustomization is what the tests read of a kustomization.yaml.
type kustomization struct {
	Resources             []string    `yaml:"resources"`
	Components            []string    `yaml:"components"`
	PatchesStrategicMerge []string    `yaml:"patchesStrategicMerge"`
	Patches               []patch     `yaml:"patches"`
	ConfigMapGenerator    []generator `yaml:"configMapGenerator"`
	SecretGenerator       []generator `yaml:"secretGenerator"`
	Replicas              []struct {
		Name  string `yaml:"name"`
		Count int    `yaml:"count"`
	} `yaml:"replicas"`
}

type patch struct {
	Path   string  `yaml:"path"`
	Patch  string  `yaml:"patch"`
	Target *target `yaml:"target"`
}

type target struct {
	Kind          string `yaml:"kind"`
	Name          string `yaml:"name"`
	LabelSelector string `yaml:"labelSelector"`
}

type generator struct {
	Name     string   `yaml:"name"`
	Behavior string   `yaml:"behavior"`
	Literals []string `yaml:"literals"`
	Files    []string `yaml:"files"`
	Envs     []string `yaml:"envs"`
}

func readKustomization(dir string) (kustomization, error) {
	var k kustomization
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return k, err
	}
	return k, yaml.Unmarshal(b, &k)
}

// assemble reads a kustomization the way kustomize builds it, without its
// patches: its resources (folders recursively), its generators (created,
// merged or replaced, names without hash suffixes) and its replicas.
func assemble(dir string) (*manifests, error) {
	k, err := readKustomization(dir)
	if err != nil {
		return nil, err
	}
	set := &manifests{origin: dir}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			sub, err := assemble(p)
			if err != nil {
				return nil, err
			}
			set.objects = append(set.objects, sub.objects...)
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		s, err := parseManifests(p, b)
		if err != nil {
			return nil, err
		}
		set.objects = append(set.objects, s.objects...)
	}
	for kind, gens := range map[string][]generator{"ConfigMap": k.ConfigMapGenerator, "Secret": k.SecretGenerator} {
		for _, g := range gens {
			data, err := g.data(dir)
			if err != nil {
				return nil, fmt.Errorf("%s: generator %s: %w", dir, g.Name, err)
			}
			o := set.find(kind, g.Name)
			switch g.Behavior {
			case "", "create":
				if o != nil {
					return nil, fmt.Errorf("%s: generator %s: %s %s exists already (use behavior merge or replace)", dir, g.Name, kind, g.Name)
				}
				o = &object{Kind: kind, Metadata: objectMeta{Name: g.Name}}
				set.objects = append(set.objects, o)
				o.Data = map[string]string{}
			case "merge", "replace":
				if o == nil {
					return nil, fmt.Errorf("%s: generator %s: %s %s to %s is not in the resources", dir, g.Name, kind, g.Name, g.Behavior)
				}
				if g.Behavior == "replace" {
					o.Data = map[string]string{}
				}
			default:
				return nil, fmt.Errorf("%s: generator %s: behavior %q", dir, g.Name, g.Behavior)
			}
			for key, v := range data {
				o.Data[key] = v
			}
		}
	}
	for _, r := range k.Replicas {
		for _, kind := range []string{"Deployment", "StatefulSet"} {
			if o := set.find(kind, r.Name); o != nil {
				o.Spec.Replicas = &r.Count
			}
		}
	}
	return set, nil
}

// data is what a generator puts in its ConfigMap or Secret; an env file
// missing beside its .example is read from the example.
func (g generator) data(dir string) (map[string]string, error) {
	data := map[string]string{}
	for _, l := range g.Literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("literal %q is not KEY=VALUE", l)
		}
		data[k] = v
	}
	for _, f := range g.Files {
		key, path, ok := strings.Cut(f, "=")
		if !ok {
			key, path = filepath.Base(f), f
		}
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			return nil, err
		}
		data[key] = string(b)
	}
	for _, f := range g.Envs {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			b, err = os.ReadFile(filepath.Join(dir, f+".example"))
		}
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("%s: line %q is not KEY=VALUE", f, line)
			}
			data[k] = v
		}
	}
	return data, nil
}

func generatorFile(f string) string {
	if _, path, ok := strings.Cut(f, "="); ok {
		return path
	}
	return f
}

// gitIgnores reports whether dir/.gitignore lists name.
func gitIgnores(dir, name string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if l := strings.TrimPrefix(strings.TrimSpace(line), "/"); l == name {
			return true
		}
	}
	return false
}

// manifests is a set of Kubernetes objects: a kustomization assembled here,
// or what kustomize built.
type manifests struct {
	origin  string
	objects []*object
}

// object is what the tests read of a Kubernetes object, whatever its kind.
type object struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Spec       objectSpec        `yaml:"spec"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

type objectMeta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type objectSpec struct {
	Replicas    *int   `yaml:"replicas"`
	ServiceName string `yaml:"serviceName"`
	Strategy    struct {
		Type string `yaml:"type"`
	} `yaml:"strategy"`
	Selector yaml.Node `yaml:"selector"` // matchLabels of workloads and budgets, a map of Services
	Template struct {
		Metadata objectMeta `yaml:"metadata"`
		Spec     struct {
			RestartPolicy string      `yaml:"restartPolicy"`
			Containers    []container `yaml:"containers"`
			Volumes       []struct {
				Name      string `yaml:"name"`
				ConfigMap *struct {
					Name string `yaml:"name"`
				} `yaml:"configMap"`
			} `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
	VolumeClaimTemplates []struct {
		Metadata objectMeta `yaml:"metadata"`
	} `yaml:"volumeClaimTemplates"`
	ClusterIP      string        `yaml:"clusterIP"`
	Ports          []servicePort `yaml:"ports"`
	MaxUnavailable any           `yaml:"maxUnavailable"`
	MinAvailable   any           `yaml:"minAvailable"`
}

type servicePort struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
}

type container struct {
	Name           string          `yaml:"name"`
	Image          string          `yaml:"image"`
	Command        []string        `yaml:"command"`
	Args           []string        `yaml:"args"`
	Ports          []containerPort `yaml:"ports"`
	Env            []envVar        `yaml:"env"`
	EnvFrom        []envFrom       `yaml:"envFrom"`
	ReadinessProbe *probe          `yaml:"readinessProbe"`
	LivenessProbe  *probe          `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []volumeMount `yaml:"volumeMounts"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}

type keyRef struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional bool   `yaml:"optional"`
}

type envVar struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
		ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
	} `yaml:"valueFrom"`
}

type envFrom struct {
	ConfigMapRef *struct {
		Name string `yaml:"name"`
	} `yaml:"configMapRef"`
	SecretRef *struct {
		Name string `yaml:"name"`
	} `yaml:"secretRef"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a container port's name
	} `yaml:"httpGet"`
}

// parseManifests reads every object of a multi-document YAML stream.
func parseManifests(origin string, b []byte) (*manifests, error) {
	set := &manifests{origin: origin}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return set, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", origin, err)
		}
		if o.Kind != "" {
			set.objects = append(set.objects, &o)
		}
	}
}

func (m *manifests) of(kind string) []*object {
	var out []*object
	for _, o := range m.objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (m *manifests) find(kind, name string) *object {
	for _, o := range m.of(kind) {
		if o.Metadata.Name == name {
			return o
		}
	}
	return nil
}

// match is what a kustomize patch target selects: kind, name (a regular
// expression, anchored) and labels (k=v pairs, comma-separated).
func (m *manifests) match(tg target) []*object {
	var out []*object
	name, err := regexp.Compile("^(?:" + tg.Name + ")$")
	if err != nil {
		return nil
	}
	for _, o := range m.objects {
		if tg.Kind != "" && o.Kind != tg.Kind || tg.Name != "" && !name.MatchString(o.Metadata.Name) {
			continue
		}
		ok := true
		for _, pair := range strings.Split(tg.LabelSelector, ",") {
			if k, v, found := strings.Cut(strings.TrimSpace(pair), "="); found && o.Metadata.Labels[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
}

// containers are every container of every workload.
func (m *manifests) containers() []container {
	var out []container
	for _, o := range m.objects {
		out = append(out, o.Spec.Template.Spec.Containers...)
	}
	return out
}

// env is a container's variable: its own value, a ConfigMap's key it
// names, or a key of a ConfigMap it takes whole (envFrom); a Secret's value
// is reported as "secret:<name>/<key>".
func (m *manifests) env(c container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		switch {
		case e.ValueFrom == nil:
			return e.Value, true
		case e.ValueFrom.ConfigMapKeyRef != nil:
			if cm := m.find("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name); cm != nil {
				v, ok := cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
				return v, ok
			}
			return "", false
		case e.ValueFrom.SecretKeyRef != nil:
			return "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key, true
		}
		return "", true
	}
	for _, f := range slices.Backward(c.EnvFrom) { // the last source wins
		if f.ConfigMapRef != nil {
			if cm := m.find("ConfigMap", f.ConfigMapRef.Name); cm != nil {
				if v, ok := cm.Data[name]; ok {
					return v, true
				}
			}
		}
	}
	return "", false
}

// serves reports whether a Service named host exposes port and selects the
// pods of a workload of the set.
func (m *manifests) serves(host string, port int) bool {
	s := m.find("Service", host)
	if s == nil || !slices.ContainsFunc(s.Spec.Ports, func(p servicePort) bool { return p.Port == port }) {
		return false
	}
	for _, o := range m.objects {
		if o.Kind == "Deployment" || o.Kind == "StatefulSet" {
			if s.selectsService(o.Spec.Template.Metadata.Labels) == nil {
				return true
			}
		}
	}
	return false
}

// budgetFor is the PodDisruptionBudget that selects the pods of d.
func (m *manifests) budgetFor(d *object) *object {
	for _, b := range m.of("PodDisruptionBudget") {
		if b.selects(d.Spec.Template.Metadata.Labels) == nil && (b.Spec.MaxUnavailable != nil || b.Spec.MinAvailable != nil) {
			return b
		}
	}
	return nil
}

// mountedFile is the text of the file at path in a container of o, from
// the ConfigMap volume mounted over its folder.
func (m *manifests) mountedFile(o *object, c container, path string) (string, error) {
	for _, vm := range c.VolumeMounts {
		key, ok := strings.CutPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range o.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				cm := m.find("ConfigMap", v.ConfigMap.Name)
				if cm == nil {
					return "", fmt.Errorf("%s: ConfigMap %s missing", path, v.ConfigMap.Name)
				}
				text, ok := cm.Data[key]
				if !ok {
					return "", fmt.Errorf("%s: ConfigMap %s has no key %s", path, v.ConfigMap.Name, key)
				}
				return text, nil
			}
		}
	}
	return "", fmt.Errorf("%s: no ConfigMap mounted there", path)
}

// selects reports whether a workload's or budget's matchLabels select
// pods with labels.
func (o *object) selects(labels map[string]string) error {
	var sel struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if err := o.Spec.Selector.Decode(&sel); err != nil || len(sel.MatchLabels) == 0 {
		return fmt.Errorf("%s %s: no selector.matchLabels", o.Kind, o.Metadata.Name)
	}
	return subset(sel.MatchLabels, labels)
}

// selectsService reports whether a Service's selector selects pods with
// labels.
func (o *object) selectsService(labels map[string]string) error {
	var sel map[string]string
	if err := o.Spec.Selector.Decode(&sel); err != nil || len(sel) == 0 {
		return fmt.Errorf("Service %s: no selector", o.Metadata.Name)
	}
	return subset(sel, labels)
}

func subset(sel, labels map[string]string) error {
	for k, v := range sel {
		if labels[k] != v {
			return fmt.Errorf("selector %s=%s does not match the pod labels %v", k, v, labels)
		}
	}
	return nil
}

// secretData is a Secret's data, decoded.
func (o *object) secretData() map[string]string {
	out := map[string]string{}
	for k, v := range o.Data {
		if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), "")); err == nil {
			out[k] = string(b)
		} else {
			out[k] = v // assembled here from a generator: not encoded
		}
	}
	for k, v := range o.StringData {
		out[k] = v
	}
	return out
}

func (c container) secretRef(name string) *keyRef {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

// resolvePort is the number of a probe's port: itself, or the container
// port of that name (-1 when none).
func (c container) resolvePort(p any) int {
	switch p := p.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
	}
	return -1
}

func splitPort(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("%q has no port", addr)
	}
	port, err := strconv.Atoi(addr[i+1:])
	return addr[:i], port, err
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func isYAML(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

func readYAMLDocs(path string) ([]*yaml.Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) > 0 {
			docs = append(docs, n.Content[0])
		}
	}
}

// checkDocShape accepts a Kubernetes object or kustomization (apiVersion,
// kind and, for objects, metadata.name) or a JSON 6902 patch.
func checkDocShape(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		var o object
		if err := n.Decode(&o); err != nil {
			return err
		}
		if o.APIVersion == "" || o.Kind == "" {
			return errors.New("no apiVersion or kind")
		}
		if o.Kind != "Kustomization" && o.Kind != "Component" && o.Metadata.Name == "" {
			return fmt.Errorf("%s without metadata.name", o.Kind)
		}
	case yaml.SequenceNode:
		var ops []struct {
			Op   string `yaml:"op"`
			Path string `yaml:"path"`
		}
		if err := n.Decode(&ops); err != nil {
			return fmt.Errorf("a list that is no JSON 6902 patch: %w", err)
		}
		for _, op := range ops {
			if !slices.Contains([]string{"add", "remove", "replace", "move", "copy", "test"}, op.Op) || !strings.HasPrefix(op.Path, "/") {
				return fmt.Errorf("JSON 6902 operation %q on %q", op.Op, op.Path)
			}
		}
	default:
		return errors.New("neither an object nor a JSON 6902 patch")
	}
	return nil
}

// dashboardMetrics are the application metrics the services export (pkg/metrics)
// and the labels of each; the dashboard's queries use nothing else.
var dashboardMetrics = map[string][]string{
	"paddock_upstream_requests_total":       {"host", "status"},
	"paddock_quota_used":                    {"host"},
	"paddock_quota_limit":                   {"host"},
	"paddock_upstream_pauses_total":         {"host", "reason"},
	"paddock_upstream_paused_seconds_total": {"host"},
	"paddock_gaps_pending":                  {},
	"paddock_sessions_loaded_total":         {"outcome"},
	"paddock_archive_hits_total":            {},
	"paddock_archive_bytes_total":           {"direction"},
	"paddock_extraction_duration_seconds":   {"kind"}, // histogram
	"paddock_extractions_total":             {"kind", "status"},
	"paddock_rows_written_total":            {"kind"},
	"paddock_runs_total":                    {"status"},
	"paddock_run_duration_seconds":          {}, // histogram
	"paddock_slack_posts_total":             {"result"},
}

// dashboardHistograms are the histograms of dashboardMetrics: queried by
// their _bucket, _sum and _count series.
var dashboardHistograms = []string{"paddock_extraction_duration_seconds", "paddock_run_duration_seconds"}

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance", "namespace", "pod"}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Type       string          `json:"type"`
			Name       string          `json:"name"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *datasourceRef  `json:"datasource"`
	GridPos    *map[string]int `json:"gridPos"`
	Panels     []panel         `json:"panels"` // a collapsed row's
	Targets    []struct {
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// TestDashboardUsesTheServicesMetrics checks deploy/grafana/paddock.json: it
// is a dashboard Grafana imports (JSON, a uid, a Prometheus datasource
// variable every query uses), it has panels, each query uses only the
// services' metrics (dashboardMetrics) with their labels, and every metric
// is on a panel.
func TestDashboardUsesTheServicesMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.Root(t), "deploy", "grafana", "paddock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("paddock.json is not valid JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: set both", d.UID, d.Title)
	}
	dsVar := ""
	var varQueries []string
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			var q string
			if json.Unmarshal(v.Query, &q) == nil && q == "prometheus" {
				dsVar = v.Name
			}
		case "query":
			varQueries = append(varQueries, v.Definition)
		}
	}
	if dsVar == "" {
		t.Fatal("no datasource variable of type prometheus in templating")
	}
	wantDS := "${" + dsVar + "}"
	for _, v := range d.Templating.List {
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != wantDS) {
			t.Errorf("variable %s: datasource %+v, want uid %s", v.Name, v.Datasource, wantDS)
		}
	}

	var panels []panel
	for _, p := range d.Panels {
		panels = append(panels, p)
		panels = append(panels, p.Panels...)
	}
	used := map[string]bool{}
	ids := map[int]bool{}
	queries := 0
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil {
			t.Errorf("panel %q has no gridPos", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != wantDS {
			t.Errorf("panel %q: datasource %+v, want uid %s", p.Title, p.Datasource, wantDS)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			if tg.Datasource != nil && tg.Datasource.UID != wantDS {
				t.Errorf("panel %q: a query's datasource %+v, want uid %s", p.Title, tg.Datasource, wantDS)
			}
			for _, m := range checkQuery(t, p.Title, tg.Expr) {
				used[m] = true
			}
		}
	}
	if queries == 0 {
		t.Fatal("the dashboard has no panel with a query")
	}
	for _, q := range varQueries {
		checkQuery(t, "variable", q)
	}
	for m := range dashboardMetrics {
		if !used[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
}

// checkQuery checks that expr uses only dashboardMetrics, each with its own
// labels, and returns the metrics it uses.
func checkQuery(t *testing.T, title, expr string) []string {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("panel %q: an empty query", title)
		return nil
	}
	// Grafana's label_values(metric, label) of a variable query.
	var labels []string
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		expr, labels = m[1], []string{m[2]}
	}
	names, more, err := promQLNames(expr)
	labels = append(labels, more...)
	if err != nil {
		t.Errorf("panel %q: %s: %v", title, expr, err)
		return nil
	}
	var metrics []string
	allowed := slices.Clone(targetLabels)
	for _, n := range names {
		m, isBucket := n, false
		for _, h := range dashboardHistograms {
			if base, suffix, ok := strings.Cut(n, h+"_"); ok && base == "" && slices.Contains([]string{"bucket", "sum", "count"}, suffix) {
				m, isBucket = h, suffix == "bucket"
			}
		}
		ls, ok := dashboardMetrics[m]
		if !ok || (m == n && slices.Contains(dashboardHistograms, m)) {
			t.Errorf("panel %q: %s uses %s, which is not one of the services' metrics (a histogram by its _bucket, _sum or _count)", title, expr, n)
			continue
		}
		metrics = append(metrics, m)
		allowed = append(allowed, ls...)
		if isBucket {
			allowed = append(allowed, "le")
		}
	}
	for _, l := range labels {
		if !slices.Contains(allowed, l) {
			t.Errorf("panel %q: %s uses label %s, which none of its metrics has", title, expr, l)
		}
	}
	return metrics
}

// promQLKeywords are PromQL's words that are no metric: operators,
// modifiers and the aggregations, which may stand before their by clause
// rather than their parenthesis.
var promQLKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

var (
	// labelMatcher is a selector's matcher: name, operator, quoted value.
	labelMatcher = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'[^']*'|` + "`[^`]*`" + `)`)
	// labelValues is Grafana's label_values(metric, label) of a variable query.
	labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
)

// promQLNames returns the metric names and the label names a PromQL
// expression (with Grafana's $variables) uses: an identifier followed by
// "(" is a function or aggregation, the names in by/without/on/ignoring
// lists and in selectors' braces are labels; strings, ranges, numbers and
// durations are skipped.
func promQLNames(expr string) (metrics, labels []string, err error) {
	ident := func(c byte) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	skipSpace := func(i int) int {
		for i < len(expr) && strings.ContainsRune(" \t\n\r", rune(expr[i])) {
			i++
		}
		return i
	}
	// labelList reads "(a, b)" at i, returns the names and the index after it.
	labelList := func(i int) ([]string, int, error) {
		end := strings.IndexByte(expr[i:], ')')
		if end < 0 {
			return nil, 0, errors.New("unclosed label list")
		}
		var names []string
		for _, f := range strings.Split(expr[i+1:i+end], ",") {
			if f = strings.TrimSpace(f); f != "" {
				names = append(names, f)
			}
		}
		return names, i + end + 1, nil
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := strings.IndexByte(expr[i+1:], c)
			if end < 0 {
				return nil, nil, errors.New("unclosed string")
			}
			i += end + 2
		case c == '[':
			end := strings.IndexByte(expr[i:], ']')
			if end < 0 {
				return nil, nil, errors.New("unclosed range")
			}
			i += end + 1
		case c == '{':
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				return nil, nil, errors.New("unclosed selector")
			}
			for _, m := range labelMatcher.FindAllStringSubmatch(expr[i+1:i+end], -1) {
				labels = append(labels, m[1])
			}
			i += end + 1
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				end := strings.IndexByte(expr[i:], '}')
				if end < 0 {
					return nil, nil, errors.New("unclosed ${variable}")
				}
				i += end + 1
			}
			for i < len(expr) && ident(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (ident(expr[i]) || expr[i] == '.') {
				i++
			}
		case ident(c):
			start := i
			for i < len(expr) && ident(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := skipSpace(i)
			isCall := next < len(expr) && expr[next] == '('
			switch {
			case slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, word) && isCall:
				names, after, err := labelList(next)
				if err != nil {
					return nil, nil, err
				}
				labels = append(labels, names...)
				i = after
			case isCall, slices.Contains(promQLKeywords, strings.ToLower(word)):
			default:
				metrics = append(metrics, word)
			}
		default:
			i++
		}
	}
	return metrics, labels, nil
}
