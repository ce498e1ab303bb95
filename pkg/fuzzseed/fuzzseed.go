// Package fuzzseed seeds the decoders' fuzz targets with the recorded
// upstream bodies (testdata/f1/recorded): real documents whole, and small
// runs of lines of the real feeds, so that the fuzzer starts from inputs
// the decoders meet in production while each input stays cheap to run.
//
// Seeds also run as plain test cases in every `go test`, so what this
// package returns is kept small: a few kilobytes per seed.
package fuzzseed

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Seed sizes. A feed's head is its first HeadLines lines, cut to at most
// HeadBytes (but never less than its first line); its middle is
// MiddleLines lines from the middle of the body; a body of at most
// WholeBytes is also a seed whole.
const (
	HeadLines   = 8
	HeadBytes   = 24 << 10
	MiddleLines = 3
	WholeBytes  = 16 << 10
)

// Files returns the recorded files matching pattern, a filepath.Glob
// pattern relative to testdata/f1/recorded (e.g.
// "*/static/*/*/*/WeatherData.jsonStream"), in lexical order. It fails the
// test when none matches: a fuzz target without its seeds starts blind.
func Files(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(recorded(tb), pattern))
	if err != nil {
		tb.Fatalf("fuzzseed: pattern %q: %v", pattern, err)
	}
	if len(paths) == 0 {
		tb.Fatalf("fuzzseed: no recorded file matches %q under testdata/f1/recorded", pattern)
	}
	return paths
}

// Read returns the body of a recorded file.
func Read(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("fuzzseed: %v", err)
	}
	return b
}

// Documents returns the whole bodies of the recorded files matching
// pattern (see [Files]): JSON documents such as Index.json or a Jolpica
// response.
func Documents(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range Files(tb, pattern) {
		out = append(out, Read(tb, p))
	}
	return out
}

// Streams returns seeds cut from the recorded jsonStream bodies matching
// pattern (see [Files]): of each, its head (with the BOM and the first
// line, which holds the feed's full state), a few lines from its middle,
// and the whole body when it is small.
func Streams(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range Files(tb, pattern) {
		out = append(out, Cuts(Read(tb, p))...)
	}
	return out
}

// Cuts returns the seeds Streams cuts from one jsonStream body.
func Cuts(body []byte) [][]byte {
	lines := bytes.SplitAfter(body, []byte{'\n'})
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) == 0 {
		return nil
	}
	out := [][]byte{Head(body)}
	if mid := len(lines) / 2; len(lines) > HeadLines+MiddleLines {
		out = append(out, bytes.Join(lines[mid:mid+MiddleLines], nil))
	}
	if len(body) <= WholeBytes && len(lines) > HeadLines {
		out = append(out, body)
	}
	return out
}

// Head returns the first lines of a jsonStream body: at most HeadLines,
// and no more than HeadBytes unless the first line alone is longer.
func Head(body []byte) []byte {
	end := 0
	for n := 0; n < HeadLines && end < len(body); n++ {
		i := bytes.IndexByte(body[end:], '\n')
		next := len(body)
		if i >= 0 {
			next = end + i + 1
		}
		if n > 0 && next > HeadBytes {
			break
		}
		end = next
	}
	return bytes.Clone(body[:end])
}

// recorded is testdata/f1/recorded of the project root (the directory
// holding go.work), found from the test's directory.
func recorded(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("fuzzseed: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return filepath.Join(dir, "testdata", "f1", "recorded")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("fuzzseed: no go.work above the test's directory")
		}
		dir = parent
	}
}
