package results

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/f1"
	"github.com/paddock-f1/paddock/pkg/fuzzseed"
	"github.com/paddock-f1/paddock/pkg/kind"
)

// fuzzSessions are the sessions FuzzParse builds results for, by the
// Jolpica document each reads: indices in f1.SessionNames().
var fuzzSessions = map[string]string{"results.json": "Race", "qualifying.json": "Qualifying", "sprint.json": "Sprint"}

// sessionIndex is the index of name in f1.SessionNames().
func sessionIndex(name string) uint8 {
	for i, n := range f1.SessionNames() {
		if n == name {
			return uint8(i)
		}
	}
	panic("results: no session " + name)
}

// FuzzParse: the kind's parse of any DriverList and Jolpica bodies gives
// results or an error saying which document it cannot read (ErrDriverList,
// ErrJolpica) or which result is not whole, without panicking; a DriverList
// that does not decode whole is never half used. Crashers found by
// `make fuzz` stay in testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	dls := fuzzseed.Streams(f, "*/static/*/*/*/DriverList.jsonStream")
	i := 0
	for _, p := range fuzzseed.Files(f, "api.jolpi.ca/ergast/f1/*/*/*.json") {
		session, ok := fuzzSessions[filepath.Base(p)]
		if !ok {
			continue
		}
		body := fuzzseed.Read(f, p)
		list := "MRData.RaceTable.Races.0.Results"
		switch session {
		case "Qualifying":
			list = "MRData.RaceTable.Races.0.QualifyingResults"
		case "Sprint":
			list = "MRData.RaceTable.Races.0.SprintResults"
		}
		if fuzzseed.Whole(len(body)) {
			f.Add(dls[i%len(dls)], body, sessionIndex(session))
		}
		if c := fuzzseed.FirstOf(3, list)(body); c != nil {
			f.Add(dls[i%len(dls)], c, sessionIndex(session))
		}
		i++
	}
	for _, dl := range dls {
		f.Add(dl, []byte{}, sessionIndex("Race"))
	}
	names := f1.SessionNames()
	f.Fuzz(func(t *testing.T, driverList, jolpica []byte, si uint8) {
		session := names[int(si)%len(names)]
		feeds := kind.Feeds{feedDriverList: driverList}
		if len(jolpica) > 0 {
			feeds[f1.JolpicaResults] = jolpica
		}
		_, err := parseFeeds(kind.Session{SessionKey: f1.Key(2023, 5, session)}, feeds)
		if err == nil {
			if _, werr := driverListRows(driverList); werr != nil {
				t.Fatalf("results built from a DriverList Build cannot read: %v", werr)
			}
			return
		}
		if !errors.Is(err, ErrDriverList) && !errors.Is(err, ErrJolpica) && !strings.HasPrefix(err.Error(), "results: driver ") {
			t.Fatalf("error %q wraps neither ErrDriverList nor ErrJolpica", err)
		}
	})
}
