package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/paddock-f1/paddock/pkg/archive"
	"github.com/paddock-f1/paddock/pkg/testenv"
	"github.com/paddock-f1/paddock/streams"
)

func openArchive(t *testing.T) *archive.Archive {
	t.Helper()
	js := testenv.JetStream(t)
	ctx := context.Background()
	arc, err := archive.Open(ctx, js, streams.RawBucket)
	if err != nil {
		t.Fatal(err)
	}
	return arc
}

// TestPutSmallBodiesAllocatesLittle puts many small answers (most of the
// upstream's are a few KB, or a 404's few bytes): each costs about its
// own size, not a whole 128 KiB chunk buffer, and every body reads back
// whole, small or spread over several chunks.
func TestPutSmallBodiesAllocatesLittle(t *testing.T) {
	ctx := context.Background()
	arc := openArchive(t)
	body := bytes.Repeat([]byte("x"), 2000)
	const n = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := arc.Put(ctx, "example.test", fmt.Sprintf("/small/%d", i), 200, "example.test", body); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 64<<10 {
		t.Errorf("a 2 KB put allocates %d KiB, want under 64 KiB", per>>10)
	}
	for _, size := range []int{0, 1, 2000, 128 << 10, 128<<10 + 1, 300 << 10} {
		b := bytes.Repeat([]byte{byte(size)}, size)
		path := fmt.Sprintf("/size/%d", size)
		e, err := arc.Put(ctx, "example.test", path, 200, "example.test", b)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := arc.Get(ctx, e.Name, e.SHA256)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("body of %d bytes read back as %d bytes (%v)", size, len(got), err)
		}
	}
}
