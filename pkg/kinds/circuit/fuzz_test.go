package circuit

import (
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
)

// FuzzParse: any MultiViewer circuit-info body gives the circuit or an
// error naming the source, without panicking. Crashers found by
// `make fuzz` stay in testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	for _, b := range fuzzseed.Documents(f, "api.multiviewer.app/api/v1/circuits/*/*", fuzzseed.FirstOf(2, "corners", "marshalLights", "marshalSectors", "x", "y", "miniSectorsIndexes")) {
		f.Add(b)
	}
	f.Add([]byte(`{"circuitKey":39,"year":2020,"rotation":92,"corners":[{"number":1,"letter":"","angle":1.5,"length":100,"trackPosition":{"x":1,"y":2}}],"marshalLights":[],"marshalSectors":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info, err := Parse(body)
		if err != nil {
			if info != nil || !strings.HasPrefix(err.Error(), "circuit: MultiViewer circuit info: ") {
				t.Fatalf("Parse = %v, %v; want no info and an error naming the source", info, err)
			}
			return
		}
		if info == nil || info.Corners == nil || info.MarshalLights == nil || info.MarshalSectors == nil {
			t.Fatalf("Parse = %+v; want every marker list, empty when absent", info)
		}
	})
}
