package livetiming

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
)

// TestWhole: a kind takes every line of a feed or fails with the first bad
// line's number and why; the defects real bodies have (BOM, CRLF or LF,
// the empty text after the last line end, an unterminated last line that
// decodes) and blank lines are tolerated.
func TestWhole(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name     string
		body     string
		lines    int
		blank    []int
		wantLine int    // a FormatError on this line
		wantErr  string // in its text
	}{
		{name: "archive body", body: bom + "00:00:01.000{\"a\":1}\r\n00:00:02.000{\"a\":2}\r\n", lines: 2},
		{name: "lf only", body: "00:00:01.000{}\n00:00:02.000{}\n", lines: 2},
		{name: "unterminated last line that decodes", body: "00:00:01.000{}\r\n00:00:02.000{}", lines: 2},
		{name: "blank lines", body: bom + "\r\n00:00:01.000{}\r\n  \r\n00:00:02.000{}\r\n \t", lines: 2, blank: []int{1, 3, 5}},
		{name: "truncated last line", body: "00:00:01.000{}\r\n00:00:02.000{\"a\":[1,", wantLine: 2, wantErr: "X.jsonStream line 2: payload is not valid JSON: truncated"},
		{name: "bad middle line", body: "00:00:01.000{}\r\n00:00:02.000{oops}\r\n00:00:03.000{}\r\n", wantLine: 2, wantErr: "line 2: payload is not valid JSON"},
		{name: "two bad lines", body: "00:00:01.000{}\r\nxx\r\n00:00:03.000{}\r\n00:00:0", wantLine: 2, wantErr: "(and 1 more of its 4 lines do not decode)"},
		{name: "empty", body: "", wantErr: "X.jsonStream: empty body"},
		{name: "html page", body: "<html>403</html>", wantLine: 1, wantErr: "X.jsonStream line 1: none of 1 lines decodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Whole("X.jsonStream", []byte(tt.body))
			if blank := BlankLines([]byte(tt.body)); !slices.Equal(blank, tt.blank) {
				t.Errorf("BlankLines = %v, want %v", blank, tt.blank)
			}
			if tt.wantErr == "" {
				if err != nil || len(s.Lines) != tt.lines {
					t.Fatalf("Whole = %v, %v; want %d lines", s, err, tt.lines)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Line != tt.wantLine || fe.Feed != "X.jsonStream" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Whole err = %v; want a FormatError of X.jsonStream line %d saying %q", err, tt.wantLine, tt.wantErr)
			}
		})
	}
}

// TestBlankCounterAgreesWithTheDecoders: fed in pieces of any size, the
// counter finds exactly the lines Decode and a Scanner skip as blank.
func TestBlankCounterAgreesWithTheDecoders(t *testing.T) {
	body := []byte("\xEF\xBB\xBF\r\n00:00:01.000{}\r\n\r\n00:00:02.000{}\n \n\t\r\n00:00:03.000{}\r\n  ")
	want := []int{1, 3, 5, 6, 8}
	for size := 1; size <= len(body); size++ {
		var c BlankCounter
		for b := body; len(b) > 0; b = b[min(size, len(b)):] {
			_, _ = c.Write(b[:min(size, len(b))])
		}
		if got := c.Blank(); !slices.Equal(got, want) {
			t.Fatalf("pieces of %d bytes: %v, want %v", size, got, want)
		}
	}
	// The decoders' view: the non-blank lines are all the others.
	s, err := Decode(body, false)
	if err != nil {
		t.Fatal(err)
	}
	sc := NewScanner(bytes.NewReader(body), false)
	var nums []int
	for sc.Scan() {
		nums = append(nums, sc.LineNumber())
	}
	if sc.Err() != nil || len(s.Lines) != 3 || fmt.Sprint(nums) != "[2 4 7]" {
		t.Fatalf("Decode kept %d lines, Scanner lines %v (%v); want 3 lines, 2 4 7", len(s.Lines), nums, sc.Err())
	}
}

// walkJSON is a walker that checks each payload's syntax with jsonwalk, as
// the kinds' walkers do, and keeps the lines.
func walkJSON(lines *[]Line) func(Line) error {
	var p jsonwalk.Doc
	return func(l Line) error {
		p.Reset(l.Data)
		p.Skip()
		p.End()
		if p.Err == nil {
			*lines = append(*lines, Line{Offset: l.Offset, Data: bytes.Clone(l.Data)})
		}
		return p.Err
	}
}

// TestWalkTakesWhatWholeTakes: Walk hands a walker the lines Whole
// decodes, and fails on the same line as Whole, naming the feed, the line
// and why, when a payload is not JSON (the walker's strict parser finds it)
// or a line does not decode.
func TestWalkTakesWhatWholeTakes(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	tests := []struct {
		name     string
		body     string
		lines    int
		wantLine int
		wantErr  string
	}{
		{name: "archive body", body: bom + "00:00:01.000{\"a\":1}\r\n00:00:02.000{\"a\":2}\r\n", lines: 2},
		{name: "unterminated last line that decodes", body: "00:00:01.000{}\r\n00:00:02.000{}", lines: 2},
		{name: "blank lines", body: bom + "\r\n00:00:01.000{}\r\n  \r\n00:00:02.000{}\r\n \t", lines: 2},
		{name: "truncated last line", body: "00:00:01.000{}\r\n00:00:02.000{\"a\":[1,", wantLine: 2, wantErr: "X.jsonStream line 2: payload is not valid JSON: truncated"},
		{name: "cut after a whole value", body: "00:00:01.000{}\r\n00:00:02.000{\"a\":1} x", wantLine: 2, wantErr: "X.jsonStream line 2: truncated (the body ends in this line, without a line end): payload is not valid JSON"},
		{name: "bad middle line", body: "00:00:01.000{}\r\n00:00:02.000{oops}\r\n00:00:03.000{}\r\n", wantLine: 2, wantErr: "line 2: payload is not valid JSON"},
		{name: "bad offset", body: "00:00:01.000{}\r\nxx\r\n00:00:03.000{}\r\n", wantLine: 2, wantErr: "line 2: line of 2 bytes is shorter"},
		{name: "empty", body: "", wantErr: "X.jsonStream: empty body"},
		{name: "only blank lines", body: bom + "\r\n \r\n", wantErr: "X.jsonStream: no lines (only blank lines)"},
		{name: "html page", body: "<html>403</html>", wantLine: 1, wantErr: "X.jsonStream line 1: none of 1 lines decodes"},
		{name: "two bad lines", body: "00:00:01.000{}\r\nxx\r\n00:00:03.000{}\r\n00:00:0", wantLine: 2, wantErr: "(and 1 more of its 4 lines do not decode)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Line
			err := Walk("X.jsonStream", []byte(tt.body), walkJSON(&got))
			whole, werr := Whole("X.jsonStream", []byte(tt.body))
			if tt.wantErr == "" {
				if err != nil || len(got) != tt.lines || werr != nil || !slices.EqualFunc(got, whole.Lines, func(a, b Line) bool {
					return a.Offset == b.Offset && bytes.Equal(a.Data, b.Data)
				}) {
					t.Fatalf("Walk = %d lines, %v; want the %d lines of Whole", len(got), err, tt.lines)
				}
				return
			}
			var fe, wfe *FormatError
			if !errors.As(err, &fe) || fe.Line != tt.wantLine || fe.Feed != "X.jsonStream" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Walk err = %v; want a FormatError of X.jsonStream line %d saying %q", err, tt.wantLine, tt.wantErr)
			}
			if !errors.As(werr, &wfe) || werr.Error() != err.Error() {
				t.Fatalf("Whole err = %v, Walk err = %v; want the same error", werr, err)
			}
		})
	}
}

// TestWalkRecordedFeeds: on every recorded feed, Walk hands the walker
// exactly the lines Whole decodes.
func TestWalkRecordedFeeds(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/f1/recorded/*/static/*/*/*/*.jsonStream")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recorded streams: %v", err)
	}
	for _, path := range paths {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		feed := filepath.Base(path)
		whole, werr := Whole(feed, body)
		var got []Line
		err = Walk(feed, body, walkJSON(&got))
		if (werr == nil) != (err == nil) {
			t.Fatalf("%s: Whole err %v, Walk err %v", path, werr, err)
		}
		if werr != nil {
			continue
		}
		if !slices.EqualFunc(got, whole.Lines, func(a, b Line) bool {
			return a.Offset == b.Offset && bytes.Equal(a.Data, b.Data)
		}) {
			t.Fatalf("%s: Walk gave %d lines, Whole %d, or they differ", path, len(got), len(whole.Lines))
		}
	}
}
