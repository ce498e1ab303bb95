package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/paddock-f1/paddock/pkg/kinds"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// The tests below validate deploy/k8s (the Kubernetes manifests) and
// deploy/grafana (the dashboard) without a cluster: every document parses,
// every Kubernetes object decodes strictly into its type of the Kubernetes
// API (k8s.io/api, the version of Kubernetes 1.32), every kustomization
// names files that exist, and the base and each overlay, assembled here the
// way kustomize would (resources, generators, replicas), run every service
// of services/ as the README describes it, with probes on the paths the
// services serve. Where kubectl or kustomize is installed, each overlay is
// also built by the real thing and its output decoded and checked the same
// way.

// TestDeployManifestsParse parses every YAML document under deploy/k8s: a
// kustomization (apiVersion and kind), a JSON 6902 patch (a list of
// operations with a path) or a Kubernetes object, whole or a
// strategic-merge patch, which must decode strictly into its API type
// (decodeObject: a kind of apiTypes, no unknown or repeated field, every
// value of its field's type) and have a metadata.name.
func TestDeployManifestsParse(t *testing.T) {
	root := filepath.Join(testenv.Root(t), "deploy", "k8s")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isYAML(path) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs, err := yamlDocs(b)
		if err != nil {
			t.Errorf("%s: %v", rel(root, path), err)
			return nil
		}
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", rel(root, path))
		}
		for i, doc := range docs {
			n++
			if err := checkDoc(doc); err != nil {
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
// JetStream cluster that requires a password from a Secret, three stream
// replicas, and no Secret holding anything but placeholders.
func TestDeployBaseRunsEveryService(t *testing.T) {
	set := mustAssemble(t, "base")
	checkPaddock(t, set)
	checkBaseSecrets(t, set)
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
// (kubectl kustomize, or kustomize build) when either is installed, decodes
// every object it outputs strictly into its API type (what the patches put
// in too) and checks them as the tests above check the assembled sets, plus
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
			case "base":
				checkBaseSecrets(t, set)
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
	checkNATSPolicy(t, set)
	for _, name := range services(t) {
		d := named[*appsv1.Deployment](set, name)
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
	if l := named[*appsv1.Deployment](set, "loader"); l != nil {
		if l.Spec.Replicas == nil || *l.Spec.Replicas != 1 {
			t.Errorf("%s: loader replicas = %v: exactly one loader may run", set.origin, deref(l.Spec.Replicas))
		}
		if l.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: loader strategy %q: Recreate, so a rollout never runs two loaders", set.origin, l.Spec.Strategy.Type)
		}
	}
	checkMigrate(t, set)
	checkNATS(t, set)
	checkProbes(t, set)
}

// checkService checks the Deployment of one service of services/.
func checkService(t *testing.T, set *manifests, d *appsv1.Deployment) {
	t.Helper()
	name := d.Name
	where := set.origin + ": Deployment " + name
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 1 {
		t.Errorf("%s: replicas %v: set it, at least 1", where, deref(d.Spec.Replicas))
	}
	if err := selects(d.Spec.Selector, d.Spec.Template.Labels); err != nil {
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
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == port }) {
		t.Errorf("%s: no container port %d (PADDOCK_HTTP_ADDR)", where, port)
	}
	for _, p := range []struct {
		probe *corev1.Probe
		kind  string
		path  string
	}{{c.ReadinessProbe, "readiness", "/readyz"}, {c.LivenessProbe, "liveness", "/healthz"}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			t.Errorf("%s: no %s probe GET %s", where, p.kind, p.path)
		case p.probe.HTTPGet.Path != p.path:
			t.Errorf("%s: %s probe GET %s, want %s", where, p.kind, p.probe.HTTPGet.Path, p.path)
		case resolvePort(c, p.probe.HTTPGet.Port) != port:
			t.Errorf("%s: %s probe on port %s, but the service listens on %d", where, p.kind, p.probe.HTTPGet.Port.String(), port)
		}
	}
	a := d.Spec.Template.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(port) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("%s: prometheus.io annotations %v: want scrape \"true\", port \"%d\", path /metrics", where, a, port)
	}
	if !hasQuantity(c.Resources.Requests, corev1.ResourceCPU) || !hasQuantity(c.Resources.Requests, corev1.ResourceMemory) {
		t.Errorf("%s: resource requests %s: want cpu and memory", where, quantities(c.Resources.Requests))
	}
	checkConnections(t, set, where, c)
}

// checkConnections checks a paddock container's DATABASE_URL (from a
// Secret that has it), NATS_URL (a Service of the set on that port, with
// the user NATS requires and its password from the same Secret key as the
// server's: natsCredentials) and PADDOCK_STREAM_REPLICAS (3: one replica
// per NATS server).
func checkConnections(t *testing.T, set *manifests, where string, c corev1.Container) {
	t.Helper()
	ref := secretRef(c, "DATABASE_URL")
	switch {
	case ref == nil:
		t.Errorf("%s: DATABASE_URL is not from a secretKeyRef", where)
	case ref.Optional != nil && *ref.Optional:
		t.Errorf("%s: DATABASE_URL's secretKeyRef is optional", where)
	default:
		s := named[*corev1.Secret](set, ref.Name)
		if s == nil {
			t.Errorf("%s: DATABASE_URL from Secret %s, which is missing", where, ref.Name)
		} else if _, ok := secretData(s)[ref.Key]; !ok {
			t.Errorf("%s: DATABASE_URL from Secret %s, which has no key %s", where, ref.Name, ref.Key)
		}
	}
	nats, ok := set.env(c, "NATS_URL")
	if !ok || nats == "" {
		t.Errorf("%s: NATS_URL not set", where)
	} else if u, err := url.Parse(nats); err != nil || u.Scheme != "nats" {
		t.Errorf("%s: NATS_URL %q: want nats://<user>:$(<password variable>)@<service>:<port>", where, nats)
	} else {
		if port, _ := strconv.Atoi(u.Port()); !set.serves(u.Hostname(), port) {
			t.Errorf("%s: NATS_URL %s: no Service %s on port %s", where, nats, u.Hostname(), u.Port())
		}
		if login, err := set.natsLogin(t); err == nil {
			if err := set.natsCredentials(c, u, login); err != nil {
				t.Errorf("%s: NATS_URL %s: %v", where, nats, err)
			}
		} // else checkNATS reports it
	}
	if r, _ := set.env(c, "PADDOCK_STREAM_REPLICAS"); r != "3" {
		t.Errorf("%s: PADDOCK_STREAM_REPLICAS = %q, want \"3\" (the three NATS servers)", where, r)
	}
}

// checkMigrate checks the Job that runs `paddock migrate`.
func checkMigrate(t *testing.T, set *manifests) {
	t.Helper()
	var job *batchv1.Job
	var migrate corev1.Container
	for _, j := range objectsOf[*batchv1.Job](set) {
		for _, c := range j.Spec.Template.Spec.Containers {
			if slices.Equal(c.Command, []string{"paddock", "migrate"}) {
				job, migrate = j, c
			}
		}
	}
	if job == nil {
		t.Errorf("%s: no Job runs paddock migrate", set.origin)
		return
	}
	if rp := job.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		t.Errorf("%s: Job %s restartPolicy %q", set.origin, job.Name, rp)
	}
	checkConnections(t, set, set.origin+": Job "+job.Name, migrate)
}

// checkNATS checks the NATS the services' NATS_URL names: a StatefulSet of
// three JetStream servers (nats:2.11, -js) routed to each other through a
// headless Service, each with a volume for its store, requiring a user
// whose password is a Secret's key (natsLogin), and probed on the
// monitoring port of its configuration (http_port).
func checkNATS(t *testing.T, set *manifests) {
	t.Helper()
	sts := named[*appsv1.StatefulSet](set, "nats")
	if sts == nil {
		t.Errorf("%s: no StatefulSet nats", set.origin)
		return
	}
	where := set.origin + ": StatefulSet nats"
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
		t.Errorf("%s: replicas %v, want 3", where, deref(sts.Spec.Replicas))
	}
	if err := selects(sts.Spec.Selector, sts.Spec.Template.Labels); err != nil {
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
	headless := named[*corev1.Service](set, sts.Spec.ServiceName)
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s: serviceName %q is no headless Service (clusterIP: None)", where, sts.Spec.ServiceName)
	} else if err := selectsService(headless, sts.Spec.Template.Labels); err != nil {
		t.Errorf("%s: headless Service %s: %v", where, headless.Name, err)
	}

	// The routes: one per pod, by its name under the headless Service, in
	// the args or the config file they name.
	conf := strings.Join(c.Args, " ")
	if i := slices.Index(c.Args, "--config"); i >= 0 && i+1 < len(c.Args) {
		text, err := set.mountedFile(&sts.Spec.Template, c, c.Args[i+1])
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
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == v.Name }) {
			t.Errorf("%s: volume claim %s is not mounted", where, v.Name)
		}
	}

	// Authorisation: a user whose password comes from a Secret.
	if login, err := set.natsLogin(t); err != nil {
		t.Errorf("%s: %v", where, err)
	} else if s := named[*corev1.Secret](set, login.password.Name); s == nil {
		t.Errorf("%s: the password of user %s is from Secret %s, which is missing", where, login.user, login.password.Name)
	} else if pw, ok := secretData(s)[login.password.Key]; !ok {
		t.Errorf("%s: the password of user %s is from Secret %s, which has no key %s", where, login.user, s.Name, login.password.Key)
	} else if !urlSafe.MatchString(pw) {
		t.Errorf("%s: Secret %s's %s is empty or has characters a URL cannot hold as they are (the clients' NATS_URL carries it): use letters, digits and -._~", where, s.Name, login.password.Key)
	}

	// The HTTP probes (on /healthz, checkProbes) GET the monitoring port.
	m := natsHTTPPort.FindStringSubmatch(conf)
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
	}{{"startup", c.StartupProbe}, {"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			continue
		}
		if m == nil {
			t.Errorf("%s: %s probe GET %s, but no http_port in its configuration: the server has no monitoring port", where, p.kind, p.probe.HTTPGet.Path)
		} else if strconv.Itoa(resolvePort(c, p.probe.HTTPGet.Port)) != m[1] {
			t.Errorf("%s: %s probe on port %s, but the monitoring port (http_port) is %s", where, p.kind, p.probe.HTTPGet.Port.String(), m[1])
		}
	}
}

// natsLogin is how the NATS servers admit clients: as user, with the
// password of a Secret's key.
type natsLogin struct {
	user     string
	password corev1.SecretKeySelector
}

// natsLogin reads the authorisation of the StatefulSet nats's server with
// nats-server's own parser (server.Options): its configuration file (the
// --config of its args, from the ConfigMap mounted there) and flags
// (--user, --pass), each variable of its container from a Secret standing
// for itself as "secret:<name>/<key>". The server must require a user and
// password (anything else, or nothing, is an error), the password must be
// such a variable, and the variable's secretKeyRef not optional.
func (m *manifests) natsLogin(t *testing.T) (natsLogin, error) {
	t.Helper()
	sts := named[*appsv1.StatefulSet](m, "nats")
	if sts == nil || len(sts.Spec.Template.Spec.Containers) == 0 {
		return natsLogin{}, errors.New("no StatefulSet nats with a container")
	}
	c := sts.Spec.Template.Spec.Containers[0]
	refs := map[string]*corev1.SecretKeySelector{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			refs[ref.Name+"/"+ref.Key] = ref
			t.Setenv(e.Name, "secret:"+ref.Name+"/"+ref.Key)
		} else if e.ValueFrom == nil {
			t.Setenv(e.Name, e.Value)
		}
	}
	opts := &server.Options{}
	if i := slices.Index(c.Args, "--config"); i >= 0 && i+1 < len(c.Args) {
		text, err := m.mountedFile(&sts.Spec.Template, c, c.Args[i+1])
		if err != nil {
			return natsLogin{}, err
		}
		if err := opts.ProcessConfigString(text); err != nil {
			return natsLogin{}, fmt.Errorf("nats-server does not take its configuration %s: %v", c.Args[i+1], err)
		}
	}
	for i, a := range c.Args {
		if i+1 < len(c.Args) {
			switch a {
			case "--user":
				opts.Username = c.Args[i+1]
			case "--pass":
				opts.Password = c.Args[i+1]
			}
		}
	}
	switch {
	case opts.Username == "" && opts.Authorization == "" && len(opts.Users) == 0 && len(opts.Nkeys) == 0 && len(opts.TrustedOperators) == 0:
		return natsLogin{}, errors.New("NATS admits any client: its configuration has no authorization (a user whose password is a Secret's, as nats.conf's authorization block with $NATS_PASSWORD)")
	case opts.Username == "":
		return natsLogin{}, errors.New("NATS requires no user and password (the one method the clients' NATS_URL is checked for)")
	}
	name, key, ok := strings.Cut(strings.TrimPrefix(opts.Password, "secret:"), "/")
	ref := refs[name+"/"+key]
	switch {
	case !strings.HasPrefix(opts.Password, "secret:") || !ok || ref == nil:
		return natsLogin{}, fmt.Errorf("the password of NATS user %s is written in its configuration, not a variable from a Secret", opts.Username)
	case ref.Optional != nil && *ref.Optional:
		return natsLogin{}, fmt.Errorf("the password of NATS user %s is from an optional secretKeyRef (%s/%s)", opts.Username, name, key)
	}
	return natsLogin{user: opts.Username, password: *ref}, nil
}

// natsCredentials checks the credentials in a container's NATS_URL u:
// login's user, and as password $(VAR), a variable the container defines
// before NATS_URL in its env (Kubernetes expands only those) from login's
// Secret key.
func (m *manifests) natsCredentials(c corev1.Container, u *url.URL, login natsLogin) error {
	if u.User == nil {
		return fmt.Errorf("no credentials, but NATS requires user %s", login.user)
	}
	at := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "NATS_URL" })
	if at < 0 || c.Env[at].ValueFrom != nil {
		return errors.New("not in the container's env as a value: $(VAR) is expanded only there")
	}
	if u.User.Username() != login.user {
		return fmt.Errorf("user %q, but NATS requires user %s", u.User.Username(), login.user)
	}
	pw, _ := u.User.Password()
	v := envReference.FindStringSubmatch(pw)
	if v == nil {
		return fmt.Errorf("the password is no $(VAR) reference to a variable from Secret %s's %s", login.password.Name, login.password.Key)
	}
	def := slices.IndexFunc(c.Env[:at], func(e corev1.EnvVar) bool { return e.Name == v[1] })
	if def < 0 {
		return fmt.Errorf("the password $(%s) names no variable defined before NATS_URL in env", v[1])
	}
	ref := secretRef(corev1.Container{Env: c.Env[def : def+1]}, v[1])
	switch {
	case ref == nil || ref.Name != login.password.Name || ref.Key != login.password.Key:
		return fmt.Errorf("the password $(%s) is not from Secret %s's %s, NATS's password", v[1], login.password.Name, login.password.Key)
	case ref.Optional != nil && *ref.Optional:
		return fmt.Errorf("the password $(%s) is from an optional secretKeyRef", v[1])
	}
	return nil
}

var (
	// envReference is a whole $(VAR) reference of a container's env.
	envReference = regexp.MustCompile(`^\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)$`)
	// urlSafe is a password a URL holds as it is.
	urlSafe = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
)

// checkBaseSecrets checks that no Secret of the base holds a value that
// looks like a real secret: each is empty, a placeholder, or a URL whose
// password and Slack webhook token are placeholders.
func checkBaseSecrets(t *testing.T, set *manifests) {
	t.Helper()
	for _, s := range objectsOf[*corev1.Secret](set) {
		for k, v := range secretData(s) {
			real := !placeholder(v)
			if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
				pw, _ := u.User.Password()
				_, token, webhook := strings.Cut(u.Path, "/services/")
				real = !placeholder(pw) || webhook && !placeholder(token)
			}
			if real {
				t.Errorf("%s: Secret %s's %s holds what looks like a real secret: the base holds placeholders only (empty or CHANGE-ME), the overlays the values", set.origin, s.Name, k)
			}
		}
	}
}

// placeholder reports whether v is evidently no secret: empty, or marked
// change-me.
func placeholder(v string) bool {
	return v == "" || strings.Contains(strings.ToLower(v), "change-me")
}

// natsHTTPPort finds the monitoring port in a NATS server's configuration
// file or flags.
var natsHTTPPort = regexp.MustCompile(`(?m)(?:^\s*http_port\s*[:=]\s*|(?:^| )(?:-m|--http_port) )(\d+)`)

// probePaths are the HTTP paths the servers of the manifests' images answer
// probes on, by image name (without registry, tag or digest): paddock's
// services serve /healthz (alive) and /readyz (ready) on PADDOCK_HTTP_ADDR
// (pkg/ops), NATS its /healthz (with options in the query) on its
// monitoring port.
var probePaths = map[string][]string{
	"paddock": {"/healthz", "/readyz"},
	"nats":    {"/healthz"},
}

// checkProbes checks every probe of every container of the set's
// workloads, with its API type: it has a handler on a port the container
// declares (by name or number), and an HTTP GET is plain HTTP on a path
// the container's server serves (probePaths).
func checkProbes(t *testing.T, set *manifests) {
	t.Helper()
	for _, o := range set.objects {
		pt := podTemplate(o)
		if pt == nil {
			continue
		}
		for _, c := range slices.Concat(pt.Spec.InitContainers, pt.Spec.Containers) {
			for _, p := range []struct {
				kind  string
				probe *corev1.Probe
			}{{"startup", c.StartupProbe}, {"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}} {
				if p.probe == nil {
					continue
				}
				where := fmt.Sprintf("%s: %s %s, container %s: %s probe", set.origin, kindOf(o), o.GetName(), c.Name, p.kind)
				var port *intstr.IntOrString
				switch h := p.probe.ProbeHandler; {
				case h.HTTPGet != nil:
					port = &h.HTTPGet.Port
					u, err := url.Parse(h.HTTPGet.Path)
					paths, known := probePaths[imageName(c.Image)]
					switch {
					case err != nil || !strings.HasPrefix(h.HTTPGet.Path, "/"):
						t.Errorf("%s: GET %q is no absolute path", where, h.HTTPGet.Path)
					case !known:
						t.Errorf("%s: GET %s from image %s, whose paths the test does not know (probePaths)", where, h.HTTPGet.Path, c.Image)
					case !slices.Contains(paths, u.Path):
						t.Errorf("%s: GET %s, which %s does not serve: want one of %s", where, h.HTTPGet.Path, c.Image, strings.Join(paths, ", "))
					}
					if h.HTTPGet.Scheme != "" && h.HTTPGet.Scheme != corev1.URISchemeHTTP {
						t.Errorf("%s: scheme %s: the servers serve plain HTTP", where, h.HTTPGet.Scheme)
					}
				case h.TCPSocket != nil:
					port = &h.TCPSocket.Port
				case h.GRPC != nil:
					port = new(intstr.FromInt32(h.GRPC.Port))
				case h.Exec != nil:
				default:
					t.Errorf("%s: no handler (httpGet, tcpSocket, grpc or exec)", where)
				}
				if port != nil && resolvePort(c, *port) < 0 {
					t.Errorf("%s: on port %s, which is no container port of %s (ports %s)", where, port.String(), c.Name, containerPorts(c))
				}
			}
		}
	}
}

// checkDev checks what overlays/dev adds: one instance of each extractor and
// every upstream URL on the stand-in's Service.
func checkDev(t *testing.T, set *manifests) {
	t.Helper()
	for _, d := range objectsOf[*appsv1.Deployment](set) {
		if strings.HasPrefix(d.Name, "extract-") && deref(d.Spec.Replicas) != 1 {
			t.Errorf("%s: %s replicas %d, want 1", set.origin, d.Name, deref(d.Spec.Replicas))
		}
	}
	standin := named[*appsv1.Deployment](set, "standin")
	if standin == nil {
		t.Fatalf("%s: no Deployment standin", set.origin)
	}
	c := standin.Spec.Template.Spec.Containers[0]
	if want := []string{"paddock", "standin", "--dir", "/srv/recorded", "--addr", "0.0.0.0:8080"}; !slices.Equal(c.Command, want) {
		t.Errorf("%s: standin runs %q, want %q", set.origin, c.Command, want)
	}
	if login, err := set.natsLogin(t); err == nil {
		if s := named[*corev1.Secret](set, login.password.Name); s != nil {
			if pw := secretData(s)[login.password.Key]; !strings.Contains(pw, "dev") || !placeholder(pw) {
				t.Errorf("%s: Secret %s's %s is no evident development placeholder (like paddock-dev-change-me)", set.origin, s.Name, login.password.Key)
			}
		}
	}
	loader := named[*appsv1.Deployment](set, "loader")
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
	if named[*appsv1.Deployment](set, "standin") != nil {
		t.Errorf("%s: a stand-in in production", set.origin)
	}
	for _, d := range objectsOf[*appsv1.Deployment](set) {
		c := d.Spec.Template.Spec.Containers[0]
		for _, v := range upstreamURLs {
			if u, ok := set.env(c, v); ok {
				t.Errorf("%s: %s sets %s=%s: production uses the real upstream", set.origin, d.Name, v, u)
			}
		}
		if strings.HasPrefix(d.Name, "extract-") && deref(d.Spec.Replicas) < 2 {
			t.Errorf("%s: %s replicas %d: want at least 2", set.origin, d.Name, deref(d.Spec.Replicas))
		}
	}
	if !built {
		return
	}
	for _, o := range set.objects {
		pt := podTemplate(o)
		if pt == nil {
			continue
		}
		for _, c := range pt.Spec.Containers {
			if !hasQuantity(c.Resources.Limits, corev1.ResourceCPU) || !hasQuantity(c.Resources.Limits, corev1.ResourceMemory) {
				t.Errorf("%s: %s %s, container %s: limits %s, want cpu and memory", set.origin, kindOf(o), o.GetName(), c.Name, quantities(c.Resources.Limits))
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
		Count int32  `yaml:"count"`
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
				o = generated(kind, g.Name)
				set.objects = append(set.objects, o)
			case "merge", "replace":
				if o == nil {
					return nil, fmt.Errorf("%s: generator %s: %s %s to %s is not in the resources", dir, g.Name, kind, g.Name, g.Behavior)
				}
			default:
				return nil, fmt.Errorf("%s: generator %s: behavior %q", dir, g.Name, g.Behavior)
			}
			putData(o, data, g.Behavior == "replace")
		}
	}
	for _, r := range k.Replicas {
		for _, o := range set.objects {
			if o.GetName() != r.Name {
				continue
			}
			switch o := o.(type) {
			case *appsv1.Deployment:
				o.Spec.Replicas = new(r.Count)
			case *appsv1.StatefulSet:
				o.Spec.Replicas = new(r.Count)
			}
		}
	}
	return set, nil
}

// generated is the empty ConfigMap or Secret a generator creates.
func generated(kind, name string) object {
	tm, om := metav1.TypeMeta{APIVersion: "v1", Kind: kind}, metav1.ObjectMeta{Name: name}
	if kind == "Secret" {
		return &corev1.Secret{TypeMeta: tm, ObjectMeta: om}
	}
	return &corev1.ConfigMap{TypeMeta: tm, ObjectMeta: om}
}

// putData puts a generator's data into its ConfigMap or Secret, in place of
// what it had when replace.
func putData(o object, data map[string]string, replace bool) {
	switch o := o.(type) {
	case *corev1.ConfigMap:
		if replace || o.Data == nil {
			o.Data = map[string]string{}
		}
		maps.Copy(o.Data, data)
	case *corev1.Secret:
		if replace || o.Data == nil {
			o.Data = map[string][]byte{}
		}
		if replace {
			o.StringData = nil
		}
		for k, v := range data {
			o.Data[k] = []byte(v)
			delete(o.StringData, k)
		}
	}
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
	objects []object
}

// object is a Kubernetes object in its API type: *appsv1.Deployment,
// *corev1.Service, ... (apiTypes).
type object interface {
	runtime.Object
	metav1.Object
}

// apiTypes are the API types of the kinds the manifests use, by apiVersion
// and kind. A kind not here fails the tests: a new kind is added here with
// its type, and the checks it needs.
var apiTypes = map[string]func() object{
	"v1 Namespace":                       func() object { return new(corev1.Namespace) },
	"v1 ConfigMap":                       func() object { return new(corev1.ConfigMap) },
	"v1 Secret":                          func() object { return new(corev1.Secret) },
	"v1 Service":                         func() object { return new(corev1.Service) },
	"apps/v1 Deployment":                 func() object { return new(appsv1.Deployment) },
	"apps/v1 StatefulSet":                func() object { return new(appsv1.StatefulSet) },
	"batch/v1 Job":                       func() object { return new(batchv1.Job) },
	"policy/v1 PodDisruptionBudget":      func() object { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1 NetworkPolicy": func() object { return new(networkingv1.NetworkPolicy) },
}

// yamlDocs splits a multi-document YAML stream at its "---" lines, as
// kubectl does, and parses each document strictly (a key twice in a
// mapping is an error) into maps, lists and scalars, the way kubectl turns
// YAML into JSON; empty documents are dropped.
func yamlDocs(b []byte) ([]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var docs []any
	for i := 1; ; i++ {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := utilyaml.UnmarshalStrict(chunk, &v); err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", i, err)
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
}

// decodeObject decodes a Kubernetes object (a YAML document as yamlDocs
// parses it) into its API type (apiTypes, by apiVersion and kind) as the
// API server's strict field validation would: every field by its exact
// name and no field the type lacks, with the path of each one that is not,
// then the JSON into the type with encoding/json, unknown fields
// disallowed, so every value has its field's type.
func decodeObject(m map[string]any) (object, error) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	newObject, ok := apiTypes[apiVersion+" "+kind]
	if !ok {
		return nil, fmt.Errorf("apiVersion %q, kind %q: no API type the test knows (apiTypes)", apiVersion, kind)
	}
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	where := kind + " " + name
	// encoding/json matches field names regardless of case; the API server
	// does not. Its errors name the path of every unknown field; for a value
	// of the wrong type, encoding/json's name the field.
	strict := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m, newObject(), true)
	if runtime.IsStrictDecodingError(strict) {
		return nil, fmt.Errorf("%s: %w", where, strict)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	o := newObject()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if strict != nil {
		return nil, fmt.Errorf("%s: %w", where, strict)
	}
	return o, nil
}

// checkDoc accepts a kustomization (apiVersion and kind), a Kubernetes
// object, whole or a strategic-merge patch, that decodes into its API type
// and has a name, or a JSON 6902 patch.
func checkDoc(doc any) error {
	switch doc := doc.(type) {
	case map[string]any:
		apiVersion, _ := doc["apiVersion"].(string)
		kind, _ := doc["kind"].(string)
		if apiVersion == "" || kind == "" {
			return errors.New("no apiVersion or kind")
		}
		if strings.HasPrefix(apiVersion, "kustomize.config.k8s.io/") {
			return nil // a Kustomization or Component
		}
		o, err := decodeObject(doc)
		if err != nil {
			return err
		}
		if o.GetName() == "" {
			return fmt.Errorf("%s without metadata.name", kind)
		}
	case []any:
		for _, op := range doc {
			op, _ := op.(map[string]any)
			name, _ := op["op"].(string)
			path, _ := op["path"].(string)
			if !slices.Contains([]string{"add", "remove", "replace", "move", "copy", "test"}, name) || !strings.HasPrefix(path, "/") {
				return fmt.Errorf("JSON 6902 operation %q on %q", name, path)
			}
			for k := range op {
				if !slices.Contains([]string{"op", "path", "value", "from"}, k) {
					return fmt.Errorf("JSON 6902 operation %s %s: unknown field %q", name, path, k)
				}
			}
		}
	default:
		return errors.New("neither an object nor a JSON 6902 patch")
	}
	return nil
}

// parseManifests decodes every object of a multi-document YAML stream
// into its API type (decodeObject); the error holds every document's.
func parseManifests(origin string, b []byte) (*manifests, error) {
	docs, err := yamlDocs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	set := &manifests{origin: origin}
	var errs []error
	for i, doc := range docs {
		m, ok := doc.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s, document %d: not a Kubernetes object", origin, i+1))
			continue
		}
		o, err := decodeObject(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s, document %d: %w", origin, i+1, err))
			continue
		}
		set.objects = append(set.objects, o)
	}
	return set, errors.Join(errs...)
}

func kindOf(o object) string {
	return o.GetObjectKind().GroupVersionKind().Kind
}

// objectsOf are the objects of the set of type T (*appsv1.Deployment, ...).
func objectsOf[T object](m *manifests) []T {
	var out []T
	for _, o := range m.objects {
		if o, ok := o.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// named is the object of the set of type T and name, or nil.
func named[T object](m *manifests, name string) T {
	for _, o := range objectsOf[T](m) {
		if o.GetName() == name {
			return o
		}
	}
	var none T
	return none
}

// find is the object of the set of kind and name, or nil.
func (m *manifests) find(kind, name string) object {
	for _, o := range m.objects {
		if kindOf(o) == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// podTemplate is a workload's pod template, or nil for other kinds.
func podTemplate(o object) *corev1.PodTemplateSpec {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	}
	return nil
}

// match is what a kustomize patch target selects: kind, name (a regular
// expression, anchored) and labels (k=v pairs, comma-separated).
func (m *manifests) match(tg target) []object {
	var out []object
	name, err := regexp.Compile("^(?:" + tg.Name + ")$")
	if err != nil {
		return nil
	}
	for _, o := range m.objects {
		if tg.Kind != "" && kindOf(o) != tg.Kind || tg.Name != "" && !name.MatchString(o.GetName()) {
			continue
		}
		ok := true
		for _, pair := range strings.Split(tg.LabelSelector, ",") {
			if k, v, found := strings.Cut(strings.TrimSpace(pair), "="); found && o.GetLabels()[k] != v {
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
func (m *manifests) containers() []corev1.Container {
	var out []corev1.Container
	for _, o := range m.objects {
		if pt := podTemplate(o); pt != nil {
			out = append(out, pt.Spec.Containers...)
		}
	}
	return out
}

// env is a container's variable: its own value, a ConfigMap's key it
// names, or a key of a ConfigMap it takes whole (envFrom); a Secret's value
// is reported as "secret:<name>/<key>".
func (m *manifests) env(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name != name {
			continue
		}
		switch {
		case e.ValueFrom == nil:
			return e.Value, true
		case e.ValueFrom.ConfigMapKeyRef != nil:
			if cm := named[*corev1.ConfigMap](m, e.ValueFrom.ConfigMapKeyRef.Name); cm != nil {
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
		key, ok := strings.CutPrefix(name, f.Prefix)
		if !ok || f.ConfigMapRef == nil {
			continue
		}
		if cm := named[*corev1.ConfigMap](m, f.ConfigMapRef.Name); cm != nil {
			if v, ok := cm.Data[key]; ok {
				return v, true
			}
		}
	}
	return "", false
}

// serves reports whether a Service named host exposes port and selects the
// pods of a Deployment or StatefulSet of the set.
func (m *manifests) serves(host string, port int) bool {
	s := named[*corev1.Service](m, host)
	if s == nil || !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return int(p.Port) == port }) {
		return false
	}
	for _, o := range m.objects {
		switch o.(type) {
		case *appsv1.Deployment, *appsv1.StatefulSet:
			if selectsService(s, podTemplate(o).Labels) == nil {
				return true
			}
		}
	}
	return false
}

// budgetFor is the PodDisruptionBudget that selects the pods of d.
func (m *manifests) budgetFor(d *appsv1.Deployment) *policyv1.PodDisruptionBudget {
	for _, b := range objectsOf[*policyv1.PodDisruptionBudget](m) {
		if selects(b.Spec.Selector, d.Spec.Template.Labels) == nil && (b.Spec.MaxUnavailable != nil || b.Spec.MinAvailable != nil) {
			return b
		}
	}
	return nil
}

// mountedFile is the text of the file at path in container c of a pod
// template, from the ConfigMap volume mounted over its folder.
func (m *manifests) mountedFile(pt *corev1.PodTemplateSpec, c corev1.Container, path string) (string, error) {
	for _, vm := range c.VolumeMounts {
		key, ok := strings.CutPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pt.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				cm := named[*corev1.ConfigMap](m, v.ConfigMap.Name)
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

// selects reports whether a workload's or budget's selector selects pods
// with podLabels.
func selects(sel *metav1.LabelSelector, podLabels map[string]string) error {
	if sel == nil || len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return errors.New("no selector")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return err
	}
	if !s.Matches(labels.Set(podLabels)) {
		return fmt.Errorf("selector %s does not match the pod labels %v", s, podLabels)
	}
	return nil
}

// selectsService reports whether a Service's selector selects pods with
// podLabels.
func selectsService(s *corev1.Service, podLabels map[string]string) error {
	if len(s.Spec.Selector) == 0 {
		return fmt.Errorf("Service %s: no selector", s.Name)
	}
	if sel := labels.SelectorFromSet(s.Spec.Selector); !sel.Matches(labels.Set(podLabels)) {
		return fmt.Errorf("selector %s does not match the pod labels %v", sel, podLabels)
	}
	return nil
}

// secretData is a Secret's data and string data.
func secretData(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	maps.Copy(out, s.StringData)
	return out
}

func secretRef(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}

// resolvePort is the number of a container's port a probe names: by its
// name, or by its number (-1 when the container has no such port).
func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	for _, cp := range c.Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return int(cp.ContainerPort)
		}
	}
	return -1
}

// containerPorts lists a container's ports as name:number.
func containerPorts(c corev1.Container) string {
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, p.Name+":"+strconv.Itoa(int(p.ContainerPort)))
	}
	return "[" + strings.Join(ports, " ") + "]"
}

// imageName is an image reference without its registry, folders, tag and
// digest: registry.example.com/paddock:1.4.0 is paddock.
func imageName(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// hasQuantity reports whether a resource list sets name to more than zero.
func hasQuantity(l corev1.ResourceList, name corev1.ResourceName) bool {
	q, ok := l[name]
	return ok && !q.IsZero()
}

// quantities prints a resource list as name=quantity pairs.
func quantities(l corev1.ResourceList) string {
	var s []string
	for name, q := range l {
		s = append(s, string(name)+"="+q.String())
	}
	slices.Sort(s)
	return "{" + strings.Join(s, " ") + "}"
}

func splitPort(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("%q has no port", addr)
	}
	port, err := strconv.Atoi(addr[i+1:])
	return addr[:i], port, err
}

func deref(p *int32) int32 {
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
	"paddock_retries_total":                 {"consumer", "reason"},
	"paddock_backing_off_messages":          {"consumer"},
	"paddock_backing_off_since_seconds":     {"consumer"},
	"paddock_dead_letters_total":            {"consumer", "why"},
	"paddock_dead_letters":                  {"consumer"},
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

// checkNATSPolicy checks the NetworkPolicy of the NATS servers: it selects
// their pods; the route port 6222 (which takes no password) admits only
// those pods, the client port 4222 only pods part of paddock, and every
// paddock Deployment's pods are such pods.
func checkNATSPolicy(t *testing.T, set *manifests) {
	t.Helper()
	np := named[*networkingv1.NetworkPolicy](set, "nats")
	if np == nil {
		t.Errorf("%s: no NetworkPolicy nats: the route port takes no password", set.origin)
		return
	}
	if np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "nats" || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Errorf("%s: NetworkPolicy nats selects %v for %v, want the NATS pods' ingress", set.origin, np.Spec.PodSelector.MatchLabels, np.Spec.PolicyTypes)
	}
	from := map[int32][]map[string]string{} // port -> the pod labels admitted; nil entry: anyone
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port == nil {
				t.Errorf("%s: NetworkPolicy nats: a rule without a port opens every port", set.origin)
				continue
			}
			if len(rule.From) == 0 {
				from[p.Port.IntVal] = append(from[p.Port.IntVal], nil)
			}
			for _, peer := range rule.From {
				if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
					t.Errorf("%s: NetworkPolicy nats admits port %d from %+v: want pods of this namespace", set.origin, p.Port.IntVal, peer)
					continue
				}
				from[p.Port.IntVal] = append(from[p.Port.IntVal], peer.PodSelector.MatchLabels)
			}
		}
	}
	only := func(port int32, key, value string) {
		if len(from[port]) == 0 {
			t.Errorf("%s: NetworkPolicy nats does not admit port %d", set.origin, port)
		}
		for _, labels := range from[port] {
			if len(labels) != 1 || labels[key] != value {
				t.Errorf("%s: NetworkPolicy nats admits port %d from %v, want only %s=%s", set.origin, port, labels, key, value)
			}
		}
	}
	only(6222, "app.kubernetes.io/name", "nats")
	only(4222, "app.kubernetes.io/part-of", "paddock")
	for _, d := range objectsOf[*appsv1.Deployment](set) {
		if d.Spec.Template.Labels["app.kubernetes.io/part-of"] != "paddock" {
			t.Errorf("%s: Deployment %s's pods lack app.kubernetes.io/part-of=paddock: NATS will not admit them", set.origin, d.Name)
		}
	}
}
