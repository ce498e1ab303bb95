package laps

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// FuzzDerive: laps derived from any TimingData and TimingAppData bodies
// (the feeds a session's laps come from, the others absent) come from
// whole feeds or fail with the first bad line, without panicking.
// Crashers found by `make fuzz` stay in testdata/fuzz/FuzzDerive/.
func FuzzDerive(f *testing.F) {
	for _, p := range fuzzseed.Files(f, "*/static/*/*/*/TimingData.jsonStream") {
		app := filepath.Join(filepath.Dir(p), "TimingAppData.jsonStream")
		tds := fuzzseed.Cuts(fuzzseed.Read(f, p))
		apps := [][]byte{{}}
		if paths, _ := filepath.Glob(app); len(paths) == 1 {
			apps = fuzzseed.Cuts(fuzzseed.Read(f, app))
		}
		for i, td := range tds {
			f.Add(td, apps[i%len(apps)], filepath.Base(filepath.Dir(p))[11:] == "Race")
		}
	}
	f.Fuzz(func(t *testing.T, td, app []byte, race bool) {
		in := Input{Year: 2023, Session: "Qualifying", TimingData: td}
		if race {
			in.Session = "Race"
		}
		if len(app) > 0 {
			in.TimingAppData = app
		}
		res, err := Derive(in)
		for _, feed := range []struct {
			name string
			body []byte
		}{{"TimingData.jsonStream", td}, {"TimingAppData.jsonStream", in.TimingAppData}} {
			if feed.body == nil {
				continue
			}
			if _, werr := livetiming.Whole(feed.name, feed.body); werr != nil {
				var fe *livetiming.FormatError
				if !errors.As(err, &fe) || fe.Feed != feed.name {
					t.Fatalf("Derive with a %s Whole rejects (%v) = %v; want its *livetiming.FormatError", feed.name, werr, err)
				}
				return
			}
		}
		if err == nil && res == nil {
			t.Fatal("Derive returned neither laps nor an error")
		}
	})
}
