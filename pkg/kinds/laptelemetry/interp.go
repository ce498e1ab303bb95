package laptelemetry

import (
	"fmt"
	"math"
)

// linearFill replaces the NaNs of y by linear interpolation over x between
// the neighbouring valid values, and by the first (last) valid value
// before (after) them: numpy.interp, which pandas' interpolate(method=
// "index", limit_direction="both") calls, with its arithmetic.
func linearFill(x, y []float64) {
	var xp, fp []float64
	for i, v := range y {
		if !math.IsNaN(v) {
			xp, fp = append(xp, x[i]), append(fp, v)
		}
	}
	if len(xp) == 0 || len(xp) == len(y) {
		return
	}
	j := 0 // xp[j] <= x < xp[j+1] for the current x; x ascends
	for i, v := range y {
		if !math.IsNaN(v) {
			continue
		}
		xv := x[i]
		switch {
		case xv < xp[0]:
			y[i] = fp[0]
		case xv >= xp[len(xp)-1]:
			y[i] = fp[len(fp)-1]
		default:
			for xp[j+1] <= xv {
				j++
			}
			if xp[j] == xv {
				y[i] = fp[j]
				continue
			}
			slope := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
			r := float64(slope*(xv-xp[j])) + fp[j]
			if math.IsNaN(r) {
				r = float64(slope*(xv-xp[j+1])) + fp[j+1]
				if math.IsNaN(r) && fp[j] == fp[j+1] {
					r = fp[j]
				}
			}
			y[i] = r
		}
	}
}

// quadraticFill replaces the NaNs of y after its first valid value by a
// quadratic interpolating spline through the valid values over x,
// extrapolated beyond the last one; NaNs before the first valid value
// stay. This is pandas' interpolate(method="quadratic",
// fill_value="extrapolate"), i.e. scipy's interp1d(kind="quadratic"):
// make_interp_spline with k=2. It needs three valid values when any is
// missing (scipy raises ValueError; here ErrTooFewSamples).
func quadraticFill(x, y []float64) error {
	first := -1
	var xs, ys []float64
	for i, v := range y {
		if !math.IsNaN(v) {
			if first < 0 {
				first = i
			}
			xs, ys = append(xs, x[i]), append(ys, v)
		}
	}
	if len(xs) == 0 || len(xs) == len(y) {
		return nil
	}
	if len(xs) < 3 {
		return fmt.Errorf("%d values to interpolate quadratically: %w", len(xs), ErrTooFewSamples)
	}
	sp, err := newQuadSpline(xs, ys)
	if err != nil {
		return err
	}
	l := 2
	for i := first + 1; i < len(y); i++ {
		if math.IsNaN(y[i]) {
			y[i] = sp.eval(x[i], &l)
		}
	}
	return nil
}

// quadSpline is a B-spline of degree 2: knots t, coefficients c.
type quadSpline struct {
	t, c []float64
}

const degree = 2

// newQuadSpline is scipy's make_interp_spline(x, y, k=2): knots at the
// first and last x (each threefold) and at the midpoints between the
// inner x, coefficients from the collocation system, solved by banded LU
// with partial pivoting as LAPACK's gbsv does. x ascends strictly.
func newQuadSpline(x, y []float64) (*quadSpline, error) {
	const k = degree
	n := len(x)
	t := make([]float64, n+k+1)
	for i := 0; i <= k; i++ {
		t[i], t[n+i] = x[0], x[n-1]
	}
	for i := 1; i <= n-3; i++ {
		t[k+i] = (x[i] + x[i+1]) / 2
	}
	band := newBand(n, k, k)
	var w [k + 1]float64
	l := k
	for j, xv := range x {
		l = findInterval(t, xv, l)
		deBoor(t, xv, l, &w)
		for a := 0; a <= k; a++ {
			band.set(j, l-k+a, w[a])
		}
	}
	c := append([]float64(nil), y...)
	if err := band.solve(c); err != nil {
		return nil, err
	}
	return &quadSpline{t: t, c: c}, nil
}

// eval is the spline's value at x, extrapolating the first or last
// polynomial piece outside the knots (BSpline(extrapolate=True)); l is a
// hint for the knot interval, updated.
func (s *quadSpline) eval(x float64, l *int) float64 {
	const k = degree
	*l = findInterval(s.t, x, *l)
	var w [k + 1]float64
	deBoor(s.t, x, *l, &w)
	out := 0.0
	for a := 0; a <= k; a++ {
		out += float64(s.c[*l-k+a] * w[a])
	}
	return out
}

// findInterval returns l in [k, n-1] (n coefficients) with t[l] <= x <
// t[l+1], the first interval for x before t[k] and the last for x at or
// after t[n], as scipy's find_interval with extrapolation; l is a start
// hint.
func findInterval(t []float64, x float64, l int) int {
	const k = degree
	n := len(t) - k - 1
	if l <= k || l >= n {
		l = k
	}
	for x < t[l] && l != k {
		l--
	}
	l++
	for x >= t[l] && l != n {
		l++
	}
	return l - 1
}

// deBoor sets w to the k+1 non-zero B-spline basis values at x in knot
// interval l (of B_{l-k} .. B_l), by scipy's _deBoor_D recursion.
func deBoor(t []float64, x float64, l int, w *[degree + 1]float64) {
	const k = degree
	var hh [k + 1]float64
	h := w[:]
	h[0] = 1
	for j := 1; j <= k; j++ {
		copy(hh[:j], h[:j])
		h[0] = 0
		for n := 1; n <= j; n++ {
			xb, xa := t[l+n], t[l+n-j]
			if xb == xa {
				h[n] = 0
				continue
			}
			wt := hh[n-1] / (xb - xa)
			h[n-1] += float64(wt * (xb - x))
			h[n] = wt * (x - xa)
		}
	}
}

// band is an n×n band matrix with kl sub- and ku superdiagonals, with
// room for the kl extra superdiagonals of fill-in that LU with row
// interchanges produces (LAPACK's band storage, row-major here).
type band struct {
	n, kl, ku, w int
	a            []float64
	piv          []int
}

func newBand(n, kl, ku int) *band {
	w := 2*kl + ku + 1
	return &band{n: n, kl: kl, ku: ku, w: w, a: make([]float64, n*w)}
}

// at addresses element (i, c), i-kl <= c <= i+kl+ku.
func (b *band) at(i, c int) *float64 { return &b.a[i*b.w+c-i+b.kl] }

func (b *band) set(i, c int, v float64) { *b.at(i, c) = v }

// solve overwrites rhs with the solution of b·x = rhs, factorising b in
// place as LAPACK's dgbtf2 (partial pivoting, multipliers scaled by the
// pivot's reciprocal) and substituting as dgbtrs.
func (b *band) solve(rhs []float64) error {
	n, kl, ku := b.n, b.kl, b.ku
	b.piv = make([]int, n)
	for j := range n {
		km := min(kl, n-1-j)
		p := j
		for r := j + 1; r <= j+km; r++ {
			if math.Abs(*b.at(r, j)) > math.Abs(*b.at(p, j)) {
				p = r
			}
		}
		b.piv[j] = p
		if *b.at(p, j) == 0 {
			return fmt.Errorf("singular spline collocation matrix at row %d: %w", j, ErrTooFewSamples)
		}
		ju := min(j+kl+ku, n-1)
		if p != j {
			for c := j; c <= ju; c++ {
				pa, ja := b.at(p, c), b.at(j, c)
				*pa, *ja = *ja, *pa
			}
		}
		if km == 0 {
			continue
		}
		rcp := 1 / *b.at(j, j)
		for r := j + 1; r <= j+km; r++ {
			*b.at(r, j) *= rcp
		}
		for c := j + 1; c <= ju; c++ {
			u := *b.at(j, c)
			for r := j + 1; r <= j+km; r++ {
				*b.at(r, c) -= float64(*b.at(r, j) * u)
			}
		}
	}
	for j := 0; j < n-1; j++ {
		if p := b.piv[j]; p != j {
			rhs[p], rhs[j] = rhs[j], rhs[p]
		}
		for r := j + 1; r <= j+min(kl, n-1-j); r++ {
			rhs[r] -= float64(*b.at(r, j) * rhs[j])
		}
	}
	for j := n - 1; j >= 0; j-- {
		if rhs[j] == 0 {
			continue
		}
		rhs[j] /= *b.at(j, j)
		v := rhs[j]
		for i := j - 1; i >= max(0, j-kl-ku); i-- {
			rhs[i] -= float64(v * *b.at(i, j))
		}
	}
	return nil
}
