package position_test

import (
	"bytes"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
)

// fuzzDrivers are the cars whose rows FuzzDecode keeps; the others are
// dropped, as cars missing from the driver list are.
var fuzzDrivers = []string{"1", "3", "4", "5", "7", "10", "11", "14", "16", "44", "55", "63", "77", "81", "99"}

// FuzzDecode: any body, compressed as recorded or with plain JSON
// payloads, decodes or fails on its first bad line with a
// *livetiming.FormatError, without panicking (kindtest.CheckTelemetry).
// Crashers found by `make fuzz` stay in testdata/fuzz/FuzzDecode/.
func FuzzDecode(f *testing.F) {
	for _, b := range kindtest.TelemetrySeeds(f, position.Feed) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		keep := map[string]bool{}
		for _, d := range fuzzDrivers {
			keep[d] = true
		}
		emitted := 0
		sum, err := position.Decode(bytes.NewReader(body), fuzzDrivers, func(rows []position.Sample) error {
			for _, r := range rows {
				if !keep[r.Driver] {
					t.Fatalf("emitted a row of car %q, not in the driver list", r.Driver)
				}
			}
			emitted += len(rows)
			return nil
		})
		kindtest.CheckTelemetry(t, position.Feed, body, emitted, sum.Rows, err)
	})
}
