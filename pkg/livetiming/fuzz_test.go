package livetiming

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/paddock-f1/paddock/pkg/fuzzseed"
)

// The fuzz targets of the jsonStream decoders. Their property, on any
// input: no panic, no hang, and the decoders agree with each other and
// with their contracts (Decode, Whole and a Scanner take the same lines or
// fail on the same line; a .z line decodes to the JSON it encodes; Merge
// never modifies a patch and grows lists by at most MaxListGrowth per
// patch). Crashers found by `make fuzz` stay in testdata/fuzz/<target>/.

// fuzzLine is one line as a decoder yields it.
type fuzzLine struct {
	num  int // 0 for Decode, which does not number its lines
	off  time.Duration
	data string
}

// scanLines scans body with a Scanner of the given worker count.
func scanLines(body []byte, compressed bool, workers int) ([]fuzzLine, error) {
	sc := NewScanner(bytes.NewReader(body), compressed)
	sc.SetWorkers(workers)
	var out []fuzzLine
	for sc.Scan() {
		out = append(out, fuzzLine{sc.LineNumber(), sc.Line().Offset, string(sc.Line().Data)})
	}
	return out, sc.Err()
}

// physicalLines counts the lines of body as the decoders number them: the
// empty text after the last line end is not a line.
func physicalLines(body []byte) int {
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}

// FuzzDecodersAgree: Decode, Whole, Walk and the Scanner (inline and with
// workers) agree on any body, plain or compressed.
func FuzzDecodersAgree(f *testing.F) {
	for _, b := range fuzzseed.Streams(f, "*/static/*/*/*/*.jsonStream") {
		f.Add(b, false)
	}
	for _, b := range fuzzseed.Streams(f, "*/static/*/*/*/*.z.jsonStream") {
		f.Add(b, true)
	}
	f.Add([]byte("\xEF\xBB\xBF00:00:01.000{}\r\n\r\n00:00:02.000[1]"), false)
	f.Add([]byte("00:00:01.000{\"a\":1}\n00:00:0"), true)
	f.Fuzz(func(t *testing.T, body []byte, compressed bool) {
		feed := "X.jsonStream"
		if compressed {
			feed = "X.z.jsonStream"
		}
		s, derr := Decode(body, compressed)
		w, werr := Whole(feed, body)

		// Decode: lines, or a FormatError when none decodes.
		if derr != nil {
			var fe *FormatError
			if s != nil || !errors.As(derr, &fe) {
				t.Fatalf("Decode = %v, %v; want a nil Stream and a *FormatError", s, derr)
			}
		} else if len(s.Lines) == 0 {
			t.Fatalf("Decode succeeded with no line")
		}

		// Whole: every line of Decode, or the first bad line.
		switch {
		case derr == nil && len(s.Skipped) == 0:
			if werr != nil || !slices.EqualFunc(w.Lines, s.Lines, sameLine) {
				t.Fatalf("Whole = %v; Decode took every line", werr)
			}
		default:
			var fe *FormatError
			if w != nil || !errors.As(werr, &fe) || fe.Feed != feed {
				t.Fatalf("Whole = %v, %v; want a *FormatError of %s (Decode: %v, skipped %v)", w, werr, feed, derr, s)
			}
			if derr == nil && fe.Line != s.Skipped[0].Line {
				t.Fatalf("Whole fails on line %d, Decode skipped line %d first", fe.Line, s.Skipped[0].Line)
			}
			if !strings.Contains(werr.Error(), feed) {
				t.Fatalf("Whole's error %q does not name the feed", werr)
			}
		}

		// Walk, with a walker that parses each payload strictly: Whole's
		// lines, or Whole's error.
		var walked []Line
		aerr := Walk(feed, body, walkJSON(&walked))
		if werr != nil {
			if aerr == nil || aerr.Error() != werr.Error() {
				t.Fatalf("Walk err = %v; Whole err = %v", aerr, werr)
			}
		} else if aerr != nil || !slices.EqualFunc(walked, w.Lines, sameLine) {
			t.Fatalf("Walk = %d lines, %v; Whole took %d lines", len(walked), aerr, len(w.Lines))
		}

		// The Scanner: Whole's lines, numbered, or an error on its line.
		for _, workers := range []int{1, 2} {
			lines, serr := scanLines(body, compressed, workers)
			var fe *FormatError
			errors.As(werr, &fe)
			switch {
			case werr == nil:
				if serr != nil {
					t.Fatalf("Scanner (%d workers) fails where Whole takes every line: %v", workers, serr)
				}
			case fe != nil && fe.Line == 0: // empty, or blank lines only
				if serr != nil || len(lines) != 0 {
					t.Fatalf("Scanner (%d workers) = %d lines, %v on a body without lines", workers, len(lines), serr)
				}
				continue
			default:
				var se *FormatError
				if !errors.As(serr, &se) || se.Line != fe.Line {
					t.Fatalf("Scanner (%d workers) err = %v; Whole fails on line %d: %v", workers, serr, fe.Line, werr)
				}
			}
			var want []Line
			if s != nil {
				want = s.Lines
			}
			if len(lines) > len(want) {
				t.Fatalf("Scanner (%d workers) yields %d lines, Decode %d", workers, len(lines), len(want))
			}
			prev := 0
			for i, l := range lines {
				if l.off != want[i].Offset || l.data != string(want[i].Data) {
					t.Fatalf("Scanner (%d workers) line %d = %v %q, Decode %v %q", workers, l.num, l.off, l.data, want[i].Offset, want[i].Data)
				}
				if l.num <= prev || l.num > physicalLines(body) {
					t.Fatalf("Scanner (%d workers) numbers a line %d after %d (body of %d lines)", workers, l.num, prev, physicalLines(body))
				}
				prev = l.num
			}
			if werr == nil {
				// Every line is taken or blank.
				var nums []int
				for _, l := range lines {
					nums = append(nums, l.num)
				}
				nums = append(nums, BlankLines(body)...)
				slices.Sort(nums)
				if len(nums) != physicalLines(body) || (len(nums) > 0 && (nums[0] != 1 || nums[len(nums)-1] != len(nums))) {
					t.Fatalf("lines taken %v and blank lines %v are not the body's %d lines", lines, BlankLines(body), physicalLines(body))
				}
			}
		}
	})
}

func sameLine(a, b Line) bool { return a.Offset == b.Offset && bytes.Equal(a.Data, b.Data) }

// zLine encodes data as one line of a compressed stream: the offset, then
// a JSON string of base64 of raw DEFLATE; escaped writes its slashes as
// "\/", as JSON encoders may.
func zLine(tb testing.TB, data []byte, escaped bool) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(buf.Bytes())
	if escaped {
		enc = strings.ReplaceAll(enc, "/", `\/`)
	}
	return []byte("00:01:02.345\"" + enc + "\"\r\n")
}

// jsonDoc is how the decoders read an inflated payload: a leading BOM and
// JSON white space around it removed.
func jsonDoc(data []byte) []byte {
	return bytes.Trim(bytes.TrimPrefix(data, utf8BOM), " \t\r\n")
}

// FuzzDecodeZ: a .z line decodes, with Decode and the Scanner alike, to
// exactly the JSON document it encodes, and fails on line 1 when that is
// not JSON.
func FuzzDecodeZ(f *testing.F) {
	for _, p := range fuzzseed.Files(f, "*/static/*/*/*/*.z.jsonStream") {
		s, err := Decode(fuzzseed.Head(fuzzseed.Read(f, p)), true)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, l := range s.Lines[:min(2, len(s.Lines))] {
			f.Add([]byte(l.Data), false)
		}
	}
	f.Add([]byte("\xEF\xBB\xBF {\"Entries\":[]}\n"), true)
	f.Add([]byte(`"not an object"`), false)
	f.Add([]byte(`{"a":`), false)
	f.Fuzz(func(t *testing.T, data []byte, escaped bool) {
		body := zLine(t, data, escaped)
		doc := jsonDoc(data)
		valid := json.Valid(doc)
		s, err := Decode(body, true)
		lines, serr := scanLines(body, true, 1)
		if !valid {
			var fe, se *FormatError
			if !errors.As(err, &fe) || fe.Line != 1 || !errors.As(serr, &se) || se.Line != 1 {
				t.Fatalf("inflated %q is not JSON: Decode err = %v, Scanner err = %v; want both on line 1", data, err, serr)
			}
			return
		}
		if err != nil || len(s.Lines) != 1 || !bytes.Equal(s.Lines[0].Data, doc) || s.Lines[0].Offset != time.Minute+2345*time.Millisecond {
			t.Fatalf("Decode = %v, %v; want one line of %q", s, err, doc)
		}
		if serr != nil || len(lines) != 1 || lines[0].data != string(doc) || lines[0].num != 1 {
			t.Fatalf("Scanner = %v, %v; want one line of %q", lines, serr, doc)
		}
	})
}

// FuzzMerge: merging the lines of any body never modifies a patch already
// merged, and lists grow by at most MaxListGrowth elements per patch.
func FuzzMerge(f *testing.F) {
	for _, b := range fuzzseed.Streams(f, "*/static/*/*/*/DriverList.jsonStream") {
		f.Add(b)
	}
	for _, b := range fuzzseed.Streams(f, "*/static/2019/*/*/TimingData.jsonStream") {
		f.Add(b)
	}
	f.Add([]byte("00:00:01.000{\"L\":[1,2]}\n00:00:02.000{\"L\":{\"_deleted\":[\"0\"],\"3\":{\"a\":1}}}\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Decode(body, false)
		if err != nil {
			return
		}
		state := map[string]any{}
		var patches []map[string]any
		var before []string
		for _, l := range s.Lines {
			var p map[string]any
			if json.Unmarshal(l.Data, &p) != nil || p == nil {
				continue
			}
			j, _ := json.Marshal(p)
			patches, before = append(patches, p), append(before, string(j))
			Merge(state, p)
		}
		for i, p := range patches {
			if j, _ := json.Marshal(p); string(j) != before[i] {
				t.Fatalf("patch %d changed by merging: %s, was %s", i, j, before[i])
			}
		}
		if n, limit := listElements(state), len(body)+MaxListGrowth*len(patches); n > limit {
			t.Fatalf("merged state holds %d list elements, more than %d for %d bytes in %d patches", n, limit, len(body), len(patches))
		}
	})
}

// listElements counts the list elements in a decoded JSON value.
func listElements(v any) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			n += listElements(x)
		}
	case []any:
		n += len(t)
		for _, x := range t {
			n += listElements(x)
		}
	}
	return n
}

// FuzzCircuitOf: any SessionInfo body gives a circuit key or an error.
func FuzzCircuitOf(f *testing.F) {
	for _, b := range fuzzseed.Streams(f, "*/static/*/*/*/SessionInfo.jsonStream") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		key, name, err := CircuitOf(body)
		if (err == nil) != (key != 0) {
			t.Fatalf("CircuitOf = %d, %q, %v: want a key or an error", key, name, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "livetiming") {
			t.Fatalf("CircuitOf error %q does not name the package", err)
		}
	})
}

// TestDecodeZSpaceIsJSONSpace: around an inflated .z payload only JSON
// white space (and a leading BOM) is removed, by Decode as by the Scanner
// and FastF1's json.loads; a payload with a vertical tab or a no-break
// space around it is not JSON, and both fail on its line.
func TestDecodeZSpaceIsJSONSpace(t *testing.T) {
	for _, data := range []string{"\v{}", "{}\u00a0", "\u0085{}"} {
		body := zLine(t, []byte(data), false)
		s, err := Decode(body, true)
		_, serr := scanLines(body, true, 1)
		var fe, se *FormatError
		if !errors.As(err, &fe) || fe.Line != 1 || !errors.As(serr, &se) || se.Line != 1 {
			t.Errorf("inflated %q: Decode = %v, %v; Scanner err %v; want both to fail on line 1", data, s, err, serr)
		}
	}
}
