package position_test

import (
	"io"
	"testing"

	"github.com/paddock-f1/paddock/pkg/kind/kindtest"
	"github.com/paddock-f1/paddock/pkg/kinds/position"
)

// decode is position.Decode for kindtest.BenchDecode.
func decode(r io.Reader, keep []string, batch func()) (int, []string, error) {
	sum, err := position.Decode(r, keep, func([]position.Sample) error { batch(); return nil })
	var dropped []string
	for _, d := range sum.Dropped {
		dropped = append(dropped, d.Number)
	}
	return sum.Samples, dropped, err
}

// BenchmarkDecode: the biggest recorded Position.z stream, from memory,
// every car kept.
func BenchmarkDecode(b *testing.B) { kindtest.BenchDecodeRecorded(b, position.Feed, decode) }

// BenchmarkDecodeGenerated: a large generated stream read from its file
// (see kindtest.BenchDecodeGenerated; skipped when PADDOCK_TELEMETRY_DIR is
// unset).
func BenchmarkDecodeGenerated(b *testing.B) { kindtest.BenchDecodeGenerated(b, position.Feed, decode) }
