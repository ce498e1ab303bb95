package laptelemetry

import "math"

// channel is a telemetry column of a frame.
type channel int

const (
	chX channel = iota
	chY
	chZ
	chStatus
	chSpeed
	chRPM
	chThrottle
	chBrake
	chDRS
	chNGear
	chDistance
	chRelativeDistance
	chDriverAhead
	chDistanceToDriverAhead
	chSource
	numChannels
)

// fill says how a channel's missing values are filled after a merge
// (FastF1's Telemetry._CHANNELS).
type fill int

const (
	// quadratic: a quadratic interpolating spline over time through the
	// channel's values, extrapolated after the last one; missing values
	// before the first stay missing (pandas' interpolate(method=
	// "quadratic", fill_value="extrapolate") with its default forward
	// direction).
	quadratic fill = iota
	// linear: linear in time between the neighbouring values, constant
	// beyond the first and last (interpolate(method="index",
	// limit_direction="both")).
	linear
	// discrete: the previous value, the next one before the first
	// (ffill().bfill()).
	discrete
	// source: "interpolation".
	source
)

var fills = [numChannels]fill{
	chX: quadratic, chY: quadratic, chZ: quadratic, chStatus: discrete,
	chSpeed: linear, chRPM: linear, chThrottle: linear,
	chBrake: discrete, chDRS: discrete, chNGear: discrete,
	chDistance: quadratic, chRelativeDistance: quadratic,
	chDriverAhead: discrete, chDistanceToDriverAhead: linear,
	chSource: source,
}

// frame is a telemetry table indexed by Date: the rows' times in
// nanoseconds since the Unix epoch (ascending, unique) and a column per
// channel it has (nil for the others). Every column is float64 with NaN
// for a missing value; discrete text channels hold symbol ids.
type frame struct {
	date []int64
	col  [numChannels][]float64
}

func newFrame(n int) *frame { return &frame{date: make([]int64, n)} }

// merge is FastF1's self.merge_channels(other) at the original frequency:
// the union of both frames' rows, the columns of both, where a channel
// both have takes self's value unless that is missing (pandas'
// DataFrame.update), then every missing value filled per channel.
func merge(self, other *frame, sym *symbols) (*frame, error) {
	// row maps: index into self and other per merged row, -1 if none
	n := len(self.date) + len(other.date)
	date := make([]int64, 0, n)
	is := make([]int, 0, n)
	io := make([]int, 0, n)
	i, j := 0, 0
	for i < len(self.date) || j < len(other.date) {
		switch {
		case j == len(other.date) || i < len(self.date) && self.date[i] < other.date[j]:
			date, is, io = append(date, self.date[i]), append(is, i), append(io, -1)
			i++
		case i == len(self.date) || other.date[j] < self.date[i]:
			date, is, io = append(date, other.date[j]), append(is, -1), append(io, j)
			j++
		default:
			date, is, io = append(date, self.date[i]), append(is, i), append(io, j)
			i++
			j++
		}
	}
	out := &frame{date: date}
	for ch := range numChannels {
		a, b := self.col[ch], other.col[ch]
		if a == nil && b == nil {
			continue
		}
		col := make([]float64, len(date))
		for r := range date {
			v := math.NaN()
			if a != nil && is[r] >= 0 {
				v = a[is[r]]
			}
			if math.IsNaN(v) && b != nil && io[r] >= 0 {
				v = b[io[r]]
			}
			col[r] = v
		}
		out.col[ch] = col
	}
	return out, out.fillMissing(sym)
}

// fillMissing is FastF1's Telemetry.fill_missing.
func (f *frame) fillMissing(sym *symbols) error {
	var x []float64 // the rows' times as pandas interpolates over them
	for ch := range numChannels {
		col := f.col[ch]
		if col == nil {
			continue
		}
		switch fills[ch] {
		case quadratic, linear:
			if x == nil {
				x = make([]float64, len(f.date))
				for i, d := range f.date {
					x[i] = float64(d)
				}
			}
			if fills[ch] == linear {
				linearFill(x, col)
			} else if err := quadraticFill(x, col); err != nil {
				return err
			}
		case discrete:
			last := math.NaN()
			for i, v := range col {
				if math.IsNaN(v) {
					col[i] = last
				} else {
					last = v
				}
			}
			next := math.NaN()
			for i := len(col) - 1; i >= 0; i-- {
				if math.IsNaN(col[i]) {
					col[i] = next
				} else {
					next = col[i]
				}
			}
		case source:
			interp := sym.id("interpolation")
			for i, v := range col {
				if math.IsNaN(v) {
					col[i] = interp
				}
			}
		}
	}
	return nil
}

// symbols maps the text values of discrete channels to float ids and back.
type symbols struct {
	ids   map[string]float64
	names []string
}

func (s *symbols) id(name string) float64 {
	if id, ok := s.ids[name]; ok {
		return id
	}
	if s.ids == nil {
		s.ids = map[string]float64{}
	}
	id := float64(len(s.names))
	s.ids[name] = id
	s.names = append(s.names, name)
	return id
}

// name returns the text of id; "" for a missing value.
func (s *symbols) name(id float64) string {
	if math.IsNaN(id) {
		return ""
	}
	return s.names[int(id)]
}
