package viewmodel

import "time"

// RateMeter turns a growing counter sampled now and then into a rate and
// a short history of rates (for a sparkline).
type RateMeter struct {
	times  []time.Time
	totals []uint64
	// Keep is how many samples are kept (default 60).
	Keep int
}

// Add records the counter's total at t. Samples closer than 200 ms to the
// previous one are ignored, so bursts of re-renders do not skew the rate.
func (m *RateMeter) Add(t time.Time, total uint64) {
	keep := m.Keep
	if keep <= 0 {
		keep = 60
	}
	if n := len(m.times); n > 0 {
		if t.Sub(m.times[n-1]) < 200*time.Millisecond {
			return
		}
		if total < m.totals[n-1] { // the counter restarted
			m.times, m.totals = m.times[:0], m.totals[:0]
		}
	}
	m.times = append(m.times, t)
	m.totals = append(m.totals, total)
	if len(m.times) > keep {
		m.times = m.times[len(m.times)-keep:]
		m.totals = m.totals[len(m.totals)-keep:]
	}
}

// Rate returns the per-second rate over the last five samples.
func (m *RateMeter) Rate() float64 {
	n := len(m.times)
	if n < 2 {
		return 0
	}
	lo := max(n-6, 0)
	dt := m.times[n-1].Sub(m.times[lo]).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(m.totals[n-1]-m.totals[lo]) / dt
}

// Series returns the rate between consecutive samples, oldest first.
func (m *RateMeter) Series() []float64 {
	var out []float64
	for i := 1; i < len(m.times); i++ {
		dt := m.times[i].Sub(m.times[i-1]).Seconds()
		if dt > 0 {
			out = append(out, float64(m.totals[i]-m.totals[i-1])/dt)
		}
	}
	return out
}

// Sparkline returns an SVG polyline's points for values in a w×h box.
func Sparkline(values []float64, w, h float64) string {
	if len(values) < 2 {
		return ""
	}
	top := 0.0
	for _, v := range values {
		top = max(top, v)
	}
	if top == 0 {
		top = 1
	}
	var b []byte
	for i, v := range values {
		if i > 0 {
			b = append(b, ' ')
		}
		x := w * float64(i) / float64(len(values)-1)
		y := h - h*v/top
		b = appendFloat(b, x)
		b = append(b, ',')
		b = appendFloat(b, y)
	}
	return string(b)
}
