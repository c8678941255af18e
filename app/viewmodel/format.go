// Package viewmodel turns the run store (protocol/runstate) and the session's
// health into plain values the dashboard's components render: rows, graphs,
// timelines, tree rows, diffs. Builders run under the session's read lock
// and copy everything they keep, so components never hold store internals;
// formatting lives here too, so components stay free of logic.
package viewmodel

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatDuration writes a duration the way people read them: "850 ms",
// "3.2 s", "4m 12s", "1h 03m"; "–" for a negative one (unknown).
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "–"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

// FormatMicros formats a duration in microseconds; negative means unknown.
func FormatMicros(us int64) string {
	if us < 0 {
		return "–"
	}
	return FormatDuration(time.Duration(us) * time.Microsecond)
}

// FormatElapsed writes an offset into a run as mm:ss.t (h:mm:ss.t past
// an hour), the slider's clock.
func FormatElapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	tenths := int64(d / (100 * time.Millisecond))
	s := tenths / 10
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d.%d", s/3600, s/60%60, s%60, tenths%10)
	}
	return fmt.Sprintf("%02d:%02d.%d", s/60, s%60, tenths%10)
}

// FormatClock writes a time of day (24 h, UTC so every viewer of a shared
// link reads the same); "–" for the zero time.
func FormatClock(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("15:04:05")
}

// FormatCount writes an integer with thin thousands separators.
func FormatCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// FormatRate writes a per-second rate: "0", "3.4/s", "1,250/s".
func FormatRate(r float64) string {
	switch {
	case r <= 0:
		return "0/s"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
	}
	return FormatCount(uint64(r+0.5)) + "/s"
}

// FormatBytes writes a size: "512 B", "3.4 KB", "2.0 MB".
func FormatBytes(n int) string {
	switch {
	case n < 1024:
		return strconv.Itoa(n) + " B"
	case n < 1024*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + " MB"
}

// Truncate cuts s to at most n runes, marking the cut with "…".
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// ShortID shortens an id for tight places (the full one goes in a title).
func ShortID(id string) string { return Truncate(id, 18) }

func appendFloat(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', 1, 64) }

// FormatUSD writes a cost in US dollars with the precision small LLM costs
// need: "$1.23", "$0.012", "$0.00042"; "<$0.000001" for a sliver.
func FormatUSD(usd float64) string {
	switch {
	case usd == 0:
		return "$0"
	case usd < 0:
		return "-" + FormatUSD(-usd)
	case usd >= 1:
		return "$" + strconv.FormatFloat(usd, 'f', 2, 64)
	case usd < 0.000001:
		return "<$0.000001"
	}
	// Two significant digits.
	decimals := int(-math.Floor(math.Log10(usd))) + 1
	return "$" + strconv.FormatFloat(usd, 'f', decimals, 64)
}

// FormatNumber rounds a number literal for display: at most 2 decimals
// from 1 up, 3 significant digits below 1 ("0.6666666666666666" → "0.667").
// Integers and what is not a number are returned as they are; the state
// tree keeps the literal as received.
func FormatNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		return lit
	}
	v, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return lit
	}
	var s string
	if a := math.Abs(v); a >= 1 || a == 0 {
		s = strconv.FormatFloat(v, 'f', 2, 64)
	} else {
		s = strconv.FormatFloat(v, 'f', int(-math.Floor(math.Log10(a)))+2, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if len(s) >= len(lit) {
		return lit
	}
	return s
}

// FormatValue rounds the numbers of a short display value ("0.6666 ratio",
// "12.3456789") and leaves other text as it is.
func FormatValue(v string) string {
	num, rest, cut := strings.Cut(v, " ")
	if f := FormatNumber(num); f != num {
		if cut {
			return f + " " + rest
		}
		return f
	}
	return v
}
