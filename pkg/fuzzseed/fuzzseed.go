// Package fuzzseed seeds the decoders' fuzz targets with the recorded
// upstream bodies (testdata/f1/recorded).
//
// While fuzzing (go test -fuzz) the seeds are small cuts of the real
// bodies, at most MaxSeed bytes, so that each execution and mutation stays
// cheap: a feed's first lines and a
// few from its middle, a document's first list element (see the targets).
// A plain `go test` runs the real bodies whole as well, up to WholeBytes,
// as regression cases.
package fuzzseed

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Seed sizes: MaxSeed bounds a seed while fuzzing; bodies up to WholeBytes
// are seeds whole in a plain `go test`; MiddleLines lines from a feed's
// middle are one of its cuts.
const (
	MaxSeed     = 4 << 10
	WholeBytes  = 64 << 10
	MiddleLines = 3
)

// Fuzzing reports whether the test binary runs a fuzz target (go test
// -fuzz), not only its seeds.
func Fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

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

// Whole reports whether a body of n bytes is a seed whole: up to MaxSeed
// while fuzzing, up to WholeBytes in a plain `go test`.
func Whole(n int) bool {
	if Fuzzing() {
		return n <= MaxSeed
	}
	return n <= WholeBytes
}

// Streams returns seeds cut from the recorded jsonStream bodies matching
// pattern (see [Files] and [Cuts]), and those bodies whole where [Whole]
// allows.
func Streams(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range Files(tb, pattern) {
		body := Read(tb, p)
		out = append(out, Cuts(body)...)
		if Whole(len(body)) {
			out = append(out, body)
		}
	}
	return out
}

// Cuts returns small seeds cut from one jsonStream body, each at most
// MaxSeed bytes: its head (see [Head]) and MiddleLines lines from its
// middle, when they fit.
func Cuts(body []byte) [][]byte {
	var out [][]byte
	if h := Head(body); len(h) > 0 {
		out = append(out, h)
	}
	lines := bytes.SplitAfter(body, []byte{'\n'})
	if mid := len(lines) / 2; len(lines) > 2*MiddleLines {
		if m := bytes.Join(lines[mid:mid+MiddleLines], nil); len(m) <= MaxSeed {
			out = append(out, m)
		}
	}
	return out
}

// Head returns the first lines of a jsonStream body, at most MaxSeed
// bytes; a first line longer than that (a feed's full state) is left out,
// the BOM before it kept, so the head is the patches that follow.
func Head(body []byte) []byte {
	var out []byte
	if bytes.HasPrefix(body, []byte("\uFEFF")) {
		out, body = append(out, body[:3]...), body[3:]
	}
	for first := true; len(body) > 0; first = false {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line = body[:i+1]
		}
		body = body[len(line):]
		if len(out)+len(line) > MaxSeed {
			if first {
				continue
			}
			break
		}
		out = append(out, line...)
	}
	return out
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

// Documents returns seeds from the recorded JSON documents matching
// pattern (see [Files]): each body whole where [Whole] allows, and each cut
// by the cuts given (see [FirstOf]) where that gives a document.
func Documents(tb testing.TB, pattern string, cuts ...func([]byte) []byte) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, p := range Files(tb, pattern) {
		body := Read(tb, p)
		if Whole(len(body)) {
			out = append(out, body)
		}
		for _, cut := range cuts {
			if c := cut(body); c != nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// FirstOf returns a cut for [Documents]: the document with each list
// named by a dotted path of object keys and list indices
// ("MRData.RaceTable.Races.0.Results") cut to
// its first n elements, re-encoded; nil when the body is not JSON (a
// leading BOM aside) or a path does not lead to a list.
func FirstOf(n int, paths ...string) func([]byte) []byte {
	return func(body []byte) []byte {
		var root any
		if json.Unmarshal(bytes.TrimPrefix(body, []byte("\uFEFF")), &root) != nil {
			return nil
		}
		for _, path := range paths {
			keys := strings.Split(path, ".")
			v := root
			for _, k := range keys[:len(keys)-1] {
				switch t := v.(type) {
				case map[string]any:
					v = t[k]
				case []any:
					i, err := strconv.Atoi(k)
					if err != nil || i < 0 || i >= len(t) {
						return nil
					}
					v = t[i]
				}
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			l, ok := m[keys[len(keys)-1]].([]any)
			if !ok {
				return nil
			}
			m[keys[len(keys)-1]] = l[:min(n, len(l))]
		}
		b, err := json.Marshal(root)
		if err != nil {
			return nil
		}
		return b
	}
}
