package kinds

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/testenv"
)

var update = flag.Bool("update", false, "rewrite the README's table of kinds from the registry")

const (
	tableStart = "<!-- kinds: made from pkg/kinds by `go test ./pkg/kinds -run README -update` -->\n"
	tableEnd   = "<!-- /kinds -->"
)

// TestREADMEListsEveryKind keeps the README's table of kinds what the
// registry says; -update rewrites it.
func TestREADMEListsEveryKind(t *testing.T) {
	path := filepath.Join(testenv.Root(t), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no table of kinds between %q and %q", strings.TrimSpace(tableStart), tableEnd)
	}
	want := Markdown()
	if got := readme[i+len(tableStart) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(readme[:i+len(tableStart)]+want+readme[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("README.md's table of kinds differs from the registry: run go test ./pkg/kinds -run README -update\n got:\n%s\nwant:\n%s", got, want)
	}
}
