package sessionstatus

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/testenv"
)

// TestConformance parses the recorded feed of every reference session,
// writes the CSV and compares it with FastF1's session_status.csv cell by cell and
// byte by byte, logging the agreement per column.
func TestConformance(t *testing.T) {
	t.Parallel()
	var a kindtest.Agreement
	refs := kindtest.References(t, "session_status.csv")
	for _, r := range refs {
		body, ok := r.Feed(t, Feed)
		if !ok {
			t.Fatalf("%s: %s not recorded", r.Name, Feed)
		}
		rows, err := Parse(body)
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		var got bytes.Buffer
		if err := WriteCSV(&got, rows); err != nil {
			t.Fatal(err)
		}
		a.Compare(t, r.Name, got.Bytes(), r.File(t, "session_status.csv"))
	}
	t.Logf("session_status (%d sessions): %s", len(refs), &a)
}

// TestRecorded parses every recorded SessionStatus feed, with or
// without a reference, and checks that each gives changes.
func TestRecorded(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(testenv.Recorded(t), "*", "static", "*", "*", "*", Feed))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded %s: %v", Feed, err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Parse(body)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(rows) == 0 {
			t.Errorf("%s: no changes", p)
		}
		for i, row := range rows {
			if row.Status == "" {
				t.Errorf("%s: change %d lacks Status: %+v", p, i+1, row)
				break
			}
		}
	}
	t.Logf("%d recorded feeds parse", len(paths))
}
