// Package weather turns the live-timing WeatherData feed into one [Sample]
// per feed line, with the same row semantics as FastF1's weather table
// (fastf1 _api.weather_data / Session.weather_data), and writes that table in
// FastF1's CSV form.
//
// Row semantics (FastF1-compatible):
//   - every decodable line whose payload is a JSON object gives one sample,
//     including repeated timestamps and partial lines; lines whose payload is
//     not an object are ignored, as are undecodable lines (FastF1 skips them
//     with a warning);
//   - values are NOT carried over from earlier lines: a field missing from a
//     line, or one that does not convert, is missing in that sample. FastF1
//     stores its type's zero value there (0.0, False, 0); [Sample] uses nil and
//     [WriteCSV] writes FastF1's zero values.
//
// The upstream sends one line per minute with all seven fields as strings in
// every recorded session, so none of this changes real data.
package weather

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-f1/paddock/pkg/jsonwalk"
	"github.com/paddock-f1/paddock/pkg/livetiming"
)

// Sample is one WeatherData line.
//
// A field is nil when the line did not send it or its value did not convert
// the way FastF1's converters (Python float(), int(), == "1") would. Floats
// accept what Python float() accepts from a JSON string (surrounding
// whitespace, digit underscores, "nan", "inf"; so a float may be NaN or ±Inf)
// or a JSON number or boolean. WindDirection accepts what Python int() accepts
// (no decimal point; a JSON number is truncated toward zero) and must fit
// int16, else it is nil (FastF1 would keep an out-of-range integer). Rainfall
// is only set for the strings "1" and "0" (FastF1 maps everything but "1" to
// False, which is also what WriteCSV writes for nil). JSON null, objects and
// arrays give nil (they make FastF1's whole weather load fail).
type Sample struct {
	// Time is the stream offset of the line (time since the start of the data
	// recording), millisecond precision.
	Time time.Duration
	// UTC is the wall-clock UTC instant of the sample, set by [WithUTC];
	// nil when no anchor is known.
	UTC *time.Time
	// AirTemp is the air temperature in °C.
	AirTemp *float64
	// Humidity is the relative humidity in %.
	Humidity *float64
	// Pressure is the air pressure in mbar.
	Pressure *float64
	// TrackTemp is the track temperature in °C.
	TrackTemp *float64
	// WindSpeed is the wind speed in m/s.
	WindSpeed *float64
	// Rainfall reports rain: true for the string "1", false for "0".
	Rainfall *bool
	// WindDirection is the direction the wind blows from, in degrees 0-359.
	WindDirection *int16
}

// Field names of a WeatherData line, in FastF1's column order.
const (
	fieldAirTemp       = "AirTemp"
	fieldHumidity      = "Humidity"
	fieldPressure      = "Pressure"
	fieldRainfall      = "Rainfall"
	fieldTrackTemp     = "TrackTemp"
	fieldWindDirection = "WindDirection"
	fieldWindSpeed     = "WindSpeed"
)

// Parse decodes a WeatherData.jsonStream body whole (see
// [livetiming.Whole]) into samples in line order. It returns an error
// wrapping the *livetiming.FormatError, which names the line and why, when
// the body is empty or any line does not decode: no sample is dropped.
func Parse(body []byte) ([]Sample, error) {
	out := make([]Sample, 0, bytes.Count(body, []byte{'\n'})+1) // a sample a line
	var p jsonwalk.Doc
	err := livetiming.Walk(feedWeather, body, func(l livetiming.Line) error {
		if smp, ok := sample(&p, l); ok {
			out = append(out, smp)
		}
		p.End()
		return p.Err
	})
	if err != nil {
		return nil, fmt.Errorf("weather: %w", err)
	}
	return out, nil
}

// FromStream converts the lines of a decoded WeatherData stream into
// samples, one per line whose payload is a JSON object (other lines are
// ignored). It never fails.
func FromStream(s *livetiming.Stream) []Sample {
	out := make([]Sample, 0, len(s.Lines))
	var p jsonwalk.Doc
	for _, l := range s.Lines {
		if smp, ok := sample(&p, l); ok {
			out = append(out, smp)
		}
	}
	return out
}

// sample walks a line's payload with p (to its end, so p.Err holds its
// syntax error, if any) and converts it; false when the payload is not an
// object (FastF1 drops the line too). A member sent twice counts as its
// last occurrence, as in a decoded object.
func sample(p *jsonwalk.Doc, l livetiming.Line) (Sample, bool) {
	var air, hum, pres, rain, track, dir, wind []byte
	p.Reset(l.Data)
	if p.Peek() != '{' {
		p.Skip()
		return Sample{}, false
	}
	p.Open('{', "")
	for first := true; p.More('}', &first); {
		k := p.Key()
		v := p.Span()
		switch string(k) {
		case fieldAirTemp:
			air = v
		case fieldHumidity:
			hum = v
		case fieldPressure:
			pres = v
		case fieldRainfall:
			rain = v
		case fieldTrackTemp:
			track = v
		case fieldWindDirection:
			dir = v
		case fieldWindSpeed:
			wind = v
		}
	}
	if p.Err != nil {
		return Sample{}, false
	}
	return Sample{
		Time:          l.Offset,
		AirTemp:       pyFloat(air),
		Humidity:      pyFloat(hum),
		Pressure:      pyFloat(pres),
		Rainfall:      rainfall(rain),
		TrackTemp:     pyFloat(track),
		WindDirection: pyInt16(dir),
		WindSpeed:     pyFloat(wind),
	}, true
}

// WithUTC sets every sample's UTC to t0 + Time, rounded to the millisecond
// and in the UTC location; t0 is the UTC instant of stream offset zero (see
// [Anchor]). It modifies samples in place.
func WithUTC(samples []Sample, t0 time.Time) {
	for i := range samples {
		u := t0.Add(samples[i].Time).Round(time.Millisecond).UTC()
		samples[i].UTC = &u
	}
}

// jsonKind is the JSON type of a field value, as far as the converters care.
type jsonKind int

const (
	kindOther  jsonKind = iota // null, object, array, missing or malformed
	kindString                 // a JSON string
	kindNumber                 // a JSON number
	kindBool                   // true or false
)

// jsonValue classifies a raw JSON value for the converters: a JSON string
// gives its decoded text, a number its literal, true/false "1"/"0" (Python's
// float(True) == 1.0 and int(True) == 1).
func jsonValue(raw json.RawMessage) (string, jsonKind) {
	if len(raw) == 0 {
		return "", kindOther
	}
	switch raw[0] {
	case '"':
		if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), kindString // nothing to unescape
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", kindOther
		}
		return s, kindString
	case 't':
		return "1", kindBool
	case 'f':
		return "0", kindBool
	case 'n', '{', '[':
		return "", kindOther
	default:
		return string(raw), kindNumber
	}
}

// pyFloat converts like Python float() applied to the decoded JSON value.
func pyFloat(raw json.RawMessage) *float64 {
	s, k := jsonValue(raw)
	if k == kindOther {
		return nil
	}
	f, ok := parsePyFloat(s)
	if !ok {
		return nil
	}
	return &f
}

// pyInt16 converts like Python int() applied to the decoded JSON value and
// keeps the result only if it fits an int16.
func pyInt16(raw json.RawMessage) *int16 {
	s, k := jsonValue(raw)
	var n int64
	var ok bool
	switch k {
	case kindString, kindBool:
		n, ok = parsePyInt(s)
	case kindNumber:
		// Python's json gives int for integer literals and float otherwise;
		// int(float) truncates toward zero.
		if n, ok = parsePyInt(s); !ok {
			f, err := strconv.ParseFloat(s, 64)
			if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) < 1<<62 {
				n, ok = int64(math.Trunc(f)), true
			}
		}
	}
	if !ok || n < math.MinInt16 || n > math.MaxInt16 {
		return nil
	}
	v := int16(n)
	return &v
}

// rainfall maps "1" to true and "0" to false; anything else is nil.
func rainfall(raw json.RawMessage) *bool {
	s, k := jsonValue(raw)
	if k != kindString || (s != "1" && s != "0") {
		return nil
	}
	b := s == "1"
	return &b
}

// parsePyFloat parses s with Python float() rules for ASCII input: optional
// surrounding whitespace, optional sign, then "inf", "infinity" or "nan" (any
// case) or a decimal literal whose digits may be separated by single
// underscores. Out-of-range literals become ±Inf (Python does the same).
func parsePyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "nan": // strconv rejects a signed NaN; Python accepts it
		return math.NaN(), true
	case "inf", "infinity":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	clean, ok := stripDigitUnderscores(body, true)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[:len(s)-len(body)]+clean, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// parsePyInt parses s with Python int() rules for ASCII base-10 input:
// optional surrounding whitespace, optional sign, digits separated by single
// underscores. ok is false for anything else or values beyond int64.
func parsePyInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	clean, ok := stripDigitUnderscores(body, false)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-len(body)]+clean, 10, 64)
	return n, err == nil
}

// stripDigitUnderscores validates an unsigned decimal literal (a float
// literal with optional fraction and exponent when float is true, else digits
// only) in which "_" may only stand between two digits, and returns it
// without underscores.
func stripDigitUnderscores(s string, float bool) (string, bool) {
	var b strings.Builder
	digits, seenDot, seenExp := 0, false, false
	isDigit := func(i int) bool { return i >= 0 && i < len(s) && s[i] >= '0' && s[i] <= '9' }
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '_':
			if !isDigit(i-1) || !isDigit(i+1) {
				return "", false
			}
			continue
		case float && c == '.' && !seenDot && !seenExp:
			seenDot = true
		case float && (c == 'e' || c == 'E') && !seenExp && digits > 0:
			seenExp = true
			if i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				b.WriteByte(c)
				i++
				c = s[i]
			}
			if !isDigit(i + 1) {
				return "", false
			}
		default:
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), digits > 0
}
