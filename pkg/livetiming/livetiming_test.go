package livetiming

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testdata = "../../testdata/f1"

// zPayload builds a ".z" payload: JSON string of base64 of raw DEFLATE of s.
func zPayload(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return `"` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `"`
}

func TestParseOffset(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{name: "zero", in: "00:00:00.000", want: 0},
		{name: "full", in: "01:02:03.456", want: time.Hour + 2*time.Minute + 3*time.Second + 456*time.Millisecond},
		{name: "max hours", in: "99:59:59.999", want: 99*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond},
		{name: "short", in: "1:02:03.456", wantErr: true},
		{name: "microseconds", in: "01:02:03.4567", wantErr: true},
		{name: "colon as ms separator", in: "01:02:03:456", wantErr: true},
		{name: "minutes out of range", in: "00:60:00.000", wantErr: true},
		{name: "seconds out of range", in: "00:00:60.000", wantErr: true},
		{name: "letters", in: "0a:00:00.000", wantErr: true},
		{name: "sign", in: "-0:00:00.000", wantErr: true},
		{name: "empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOffset(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseOffset(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseOffset(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsCompressed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "car data", in: "CarData.z.jsonStream", want: true},
		{name: "url", in: "https://livetiming.formula1.com/static/2020/x/Position.z.jsonStream", want: true},
		{name: "plain", in: "TimingData.jsonStream", want: false},
		{name: "z json", in: "CarData.z.json", want: false},
		{name: "z in the middle", in: "a.z.jsonStream.bak", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsCompressed(tt.in); got != tt.want {
				t.Errorf("IsCompressed(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	type want struct {
		offsets []time.Duration
		data    []string
		skipped []int // line numbers
		reasons []string
	}
	ms := time.Millisecond
	tests := []struct {
		name       string
		body       string
		compressed bool
		want       want
		wantErr    string // substring of a *FormatError message; "" = no error
		wantErrLn  int
	}{
		{
			name: "bom crlf",
			body: bom + "00:00:01.000{\"a\":1}\r\n00:00:02.500{\"b\":{\"c\":\"x\"}}\r\n",
			want: want{offsets: []time.Duration{1000 * ms, 2500 * ms}, data: []string{`{"a":1}`, `{"b":{"c":"x"}}`}},
		},
		{
			name: "lf only without bom",
			body: "00:00:01.000{\"a\":1}\n00:00:02.000{\"a\":2}\n",
			want: want{offsets: []time.Duration{1000 * ms, 2000 * ms}, data: []string{`{"a":1}`, `{"a":2}`}},
		},
		{
			name: "unterminated valid last line kept",
			body: "00:00:01.000{\"a\":1}\r\n00:00:02.000{\"a\":2}",
			want: want{offsets: []time.Duration{1000 * ms, 2000 * ms}, data: []string{`{"a":1}`, `{"a":2}`}},
		},
		{
			name: "truncated last line skipped",
			body: "00:00:01.000{\"a\":1}\r\n00:00:02.000{\"a\":",
			want: want{offsets: []time.Duration{1000 * ms}, data: []string{`{"a":1}`}, skipped: []int{2}, reasons: []string{"truncated"}},
		},
		{
			name: "blank lines ignored",
			body: "\r\n00:00:01.000{\"a\":1}\r\n\r\n  \r\n",
			want: want{offsets: []time.Duration{1000 * ms}, data: []string{`{"a":1}`}},
		},
		{
			name: "bad lines in the middle",
			body: "00:00:01.000{\"a\":1}\r\nshort\r\n0:00:02.000{\"a\":1}\r\n00:00:03.000\r\n00:00:04.000{oops}\r\n00:00:05.000[1,2]\r\n",
			want: want{
				offsets: []time.Duration{1000 * ms, 5000 * ms},
				data:    []string{`{"a":1}`, `[1,2]`},
				skipped: []int{2, 3, 4, 5},
				reasons: []string{"shorter than", "HH:MM:SS.mmm", "without payload", "not valid JSON"},
			},
		},
		{
			name: "payload whitespace trimmed",
			body: "00:00:01.000 {\"a\":1} \r\n",
			want: want{offsets: []time.Duration{1000 * ms}, data: []string{`{"a":1}`}},
		},
		{
			name: "offsets going back are kept",
			body: "00:00:02.000{}\r\n00:00:01.000{}\r\n",
			want: want{offsets: []time.Duration{2000 * ms, 1000 * ms}, data: []string{`{}`, `{}`}},
		},
		{name: "empty", body: "", wantErr: "empty body"},
		{name: "only bom", body: bom, wantErr: "empty body"},
		{name: "only blank lines", body: "\r\n\r\n", wantErr: "only blank"},
		{name: "garbage", body: "<html>Not Found</html>\r\n", wantErr: "none of 1 lines", wantErrLn: 1},
		{name: "single truncated line", body: bom + "00:00:01.000{\"Messa", wantErr: "truncated", wantErrLn: 1},
		{
			name:       "compressed",
			body:       bom + "00:00:01.000" + zPayload(t, `{"Entries":[{"Utc":"2020-08-08T09:45:03.0619797Z"}]}`) + "\r\n",
			compressed: true,
			want:       want{offsets: []time.Duration{1000 * ms}, data: []string{`{"Entries":[{"Utc":"2020-08-08T09:45:03.0619797Z"}]}`}},
		},
		{
			name:       "compressed content with bom",
			body:       "00:00:01.000" + zPayload(t, bom+`{"a":1}`) + "\r\n",
			compressed: true,
			want:       want{offsets: []time.Duration{1000 * ms}, data: []string{`{"a":1}`}},
		},
		{
			name:       "compressed stream with plain object line",
			body:       "00:00:01.000{\"a\":1}\r\n",
			compressed: true,
			want:       want{offsets: []time.Duration{1000 * ms}, data: []string{`{"a":1}`}},
		},
		{
			name:       "compressed bad lines",
			body:       "00:00:01.000\"!!!\"\r\n00:00:02.000\"AAAA\"\r\n00:00:03.000" + zPayload(t, `{"a":`) + "\r\n00:00:04.000" + zPayload(t, `{"ok":true}`) + "\r\n00:00:05.000[1]\r\n",
			compressed: true,
			want: want{
				offsets: []time.Duration{4000 * ms},
				data:    []string{`{"ok":true}`},
				skipped: []int{1, 2, 3, 5},
				reasons: []string{"base64", "inflate", "truncated", "not a JSON string"},
			},
		},
		{
			name:       "compressed flag on plain string",
			body:       "00:00:01.000\"hello\"\r\n",
			compressed: true,
			wantErr:    "base64",
			wantErrLn:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode([]byte(tt.body), tt.compressed)
			if tt.wantErr != "" {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("Decode err = %v (%T), want *FormatError", err, err)
				}
				if !strings.Contains(fe.Error(), tt.wantErr) || fe.Line != tt.wantErrLn {
					t.Fatalf("Decode err = %q line %d, want containing %q line %d", fe.Error(), fe.Line, tt.wantErr, tt.wantErrLn)
				}
				if s != nil {
					t.Errorf("Decode returned a stream with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(s.Lines) != len(tt.want.offsets) {
				t.Fatalf("got %d lines, want %d (skipped %v)", len(s.Lines), len(tt.want.offsets), s.Skipped)
			}
			for i, l := range s.Lines {
				if l.Offset != tt.want.offsets[i] || string(l.Data) != tt.want.data[i] {
					t.Errorf("line %d = {%v %s}, want {%v %s}", i, l.Offset, l.Data, tt.want.offsets[i], tt.want.data[i])
				}
			}
			if len(s.Skipped) != len(tt.want.skipped) {
				t.Fatalf("skipped = %v, want lines %v", s.Skipped, tt.want.skipped)
			}
			for i, sk := range s.Skipped {
				if sk.Line != tt.want.skipped[i] || !strings.Contains(sk.Reason, tt.want.reasons[i]) {
					t.Errorf("skipped[%d] = %v, want line %d reason containing %q", i, sk, tt.want.skipped[i], tt.want.reasons[i])
				}
			}
		})
	}
}

func TestStreamMonotonic(t *testing.T) {
	tests := []struct {
		name    string
		offsets []time.Duration
		wantOK  bool
		wantBad int
	}{
		{name: "empty", wantOK: true, wantBad: -1},
		{name: "equal offsets", offsets: []time.Duration{1, 1, 2}, wantOK: true, wantBad: -1},
		{name: "goes back", offsets: []time.Duration{1, 3, 2}, wantOK: false, wantBad: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Stream{}
			for _, o := range tt.offsets {
				s.Lines = append(s.Lines, Line{Offset: o})
			}
			ok, bad := s.Monotonic()
			if ok != tt.wantOK || bad != tt.wantBad {
				t.Errorf("Monotonic() = %v, %d; want %v, %d", ok, bad, tt.wantOK, tt.wantBad)
			}
		})
	}
}

// recordedStreams returns every recorded *.jsonStream file.
func recordedStreams(t testing.TB) []string {
	t.Helper()
	var files []string
	root := filepath.Join(testdata, "recorded")
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && strings.HasSuffix(p, ".jsonStream") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	if len(files) == 0 {
		t.Fatalf("no recorded jsonStream files under %s", root)
	}
	return files
}

// TestDecodeRecorded decodes every recorded feed: no line may be skipped, the
// line count must match the CRLF count, and offsets must not decrease (they
// do not in any recording; Decode itself does not require it).
func TestDecodeRecorded(t *testing.T) {
	files := recordedStreams(t)
	lines := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(body, IsCompressed(f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(s.Skipped) > 0 {
			t.Errorf("%s: %d skipped lines, first %v", f, len(s.Skipped), s.Skipped[0])
		}
		if n := bytes.Count(body, []byte("\r\n")); n != len(s.Lines) {
			t.Errorf("%s: %d lines decoded, %d CRLF-terminated lines in body", f, len(s.Lines), n)
		}
		if ok, i := s.Monotonic(); !ok {
			t.Errorf("%s: offset goes back at line index %d", f, i)
		}
		for _, l := range s.Lines {
			if len(l.Data) == 0 || l.Data[0] != '{' {
				t.Errorf("%s: payload at %v is not an object: %.40s", f, l.Offset, l.Data)
				break
			}
		}
		lines += len(s.Lines)
	}
	t.Logf("decoded %d files, %d lines", len(files), lines)
}

// TestMergeRecorded replays full TimingData/TimingAppData/DriverList feeds
// through Merge to check it copes with real patch shapes (list first line,
// index-keyed updates, _deleted) and spot-checks list-to-index updates.
func TestMergeRecorded(t *testing.T) {
	dir := filepath.Join(testdata, "recorded/livetiming.formula1.com/static/2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying")
	for _, feed := range []string{"TimingData.jsonStream", "TimingAppData.jsonStream", "DriverList.jsonStream"} {
		t.Run(feed, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, feed))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Decode(body, false)
			if err != nil {
				t.Fatal(err)
			}
			state := map[string]any{}
			for _, l := range s.Lines {
				var patch map[string]any
				if err := json.Unmarshal(l.Data, &patch); err != nil {
					t.Fatalf("%v: %v", l.Offset, err)
				}
				Merge(state, patch)
			}
			lines, ok := state["Lines"].(map[string]any)
			if feed != "DriverList.jsonStream" && (!ok || len(lines) != 20) {
				t.Fatalf("final state has %d Lines, want 20 drivers", len(lines))
			}
			if feed == "TimingAppData.jsonStream" {
				// Stints starts as [] and is filled with "0","1",… keys.
				st, ok := lines["16"].(map[string]any)["Stints"].([]any)
				if !ok || len(st) == 0 {
					t.Fatalf("LEC stints = %#v, want a non-empty list", lines["16"].(map[string]any)["Stints"])
				}
				if c, _ := st[0].(map[string]any)["Compound"].(string); c == "" {
					t.Errorf("LEC stint 0 has no compound: %#v", st[0])
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	f := filepath.Join(testdata, "recorded/livetiming.formula1.com/static/2018/2018-04-29_Azerbaijan_Grand_Prix/2018-04-29_Race/TimingData.jsonStream")
	body, err := os.ReadFile(f)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCompressed(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("\xEF\xBB\xBF")
	entry := `{"Entries":[{"Utc":"2020-08-08T09:45:03.0619797Z","Cars":{"44":{"Channels":{"0":10512,"2":287,"3":7,"4":100,"5":0,"45":12}}}}]}`
	for i := range 2000 {
		off := time.Duration(i) * 240 * time.Millisecond
		sb.WriteString(formatOffset(off))
		sb.WriteString(zPayload(b, entry))
		sb.WriteString("\r\n")
	}
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body, true); err != nil {
			b.Fatal(err)
		}
	}
}

// formatOffset is the inverse of ParseOffset (test helper).
func formatOffset(d time.Duration) string {
	ms := d.Milliseconds()
	return time.Unix(0, 0).UTC().Add(time.Duration(ms) * time.Millisecond).Format("15:04:05.000")
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("\xEF\xBB\xBF00:00:01.000{\"a\":1}\r\n"), false)
	f.Add([]byte("00:00:01.000{\"a\":"), false)
	f.Add([]byte("00:00:01.000\"80jNCgA=\"\r\n"), true)
	f.Add([]byte("\n\n\r\n"), true)
	f.Add([]byte("00:00:01.000"+zPayload(f, `{"x":[1,2]}`)+"\r\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, compressed bool) {
		s, err := Decode(body, compressed)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || s != nil {
				t.Fatalf("error %v (%T) with stream %v", err, err, s)
			}
			return
		}
		if len(s.Lines) == 0 {
			t.Fatal("nil error with no lines")
		}
		for _, l := range s.Lines {
			if !json.Valid(l.Data) || l.Offset < 0 {
				t.Fatalf("invalid line %v %q", l.Offset, l.Data)
			}
			if got, err := ParseOffset(formatOffset(l.Offset)); err != nil || got != l.Offset {
				if l.Offset < 24*time.Hour {
					t.Fatalf("offset %v does not round-trip: %v %v", l.Offset, got, err)
				}
			}
		}
	})
}
