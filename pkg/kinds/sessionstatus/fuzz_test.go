package sessionstatus

import (
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
)

// FuzzParse: any SessionStatus.jsonStream body is parsed whole or fails with the
// first bad line (kindtest.CheckWhole), without panicking. Crashers found
// by `make fuzz` stay in testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	for _, b := range fuzzseed.Streams(f, "*/static/*/*/*/SessionStatus.jsonStream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := Parse(body)
		kindtest.CheckWhole(t, Feed, body, err)
	})
}
