package kinds

import (
	"os/exec"
	"strings"
	"testing"
)

// TestKindsSitBelowTheServices: no kind, nor the registry, depends on the
// packages that run kinds (extractor, loader, planner, gap detection, run
// accounting, the embedded stack): kinds are plug-ins below them.
func TestKindsSitBelowTheServices(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/paddock-f1/paddock/pkg/kinds/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	above := []string{"extractor", "loader", "planner", "gaps", "runs", "stack", "consume", "notify", "governor"}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, a := range above {
			if d == "github.com/paddock-f1/paddock/pkg/"+a {
				t.Errorf("a kind depends on pkg/%s", a)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list found only %v", deps)
	}
}
