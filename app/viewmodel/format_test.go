package viewmodel

import (
	"testing"
	"time"
)

func TestFormatDuration_PicksAUnitPeopleRead(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-1, "–"},
		{0, "0 µs"},
		{750 * time.Microsecond, "750 µs"},
		{850 * time.Millisecond, "850 ms"},
		{3200 * time.Millisecond, "3.2 s"},
		{4*time.Minute + 12*time.Second, "4m 12s"},
		{time.Hour + 3*time.Minute, "1h 03m"},
	}
	for _, c := range cases {
		if got := FormatDuration(c.d); got != c.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if FormatMicros(-1) != "–" || FormatMicros(1500) != "1 ms" {
		t.Errorf("FormatMicros: %q %q", FormatMicros(-1), FormatMicros(1500))
	}
}

func TestFormatElapsed_IsASliderClock(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "00:00.0"},
		{0, "00:00.0"},
		{1250 * time.Millisecond, "00:01.2"},
		{61*time.Second + 900*time.Millisecond, "01:01.9"},
		{3723 * time.Second, "1:02:03.0"},
	}
	for _, c := range cases {
		if got := FormatElapsed(c.d); got != c.want {
			t.Errorf("FormatElapsed(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestFormatNumbers_GroupThousandsAndScaleSizes(t *testing.T) {
	cases := []struct{ got, want string }{
		{FormatCount(0), "0"},
		{FormatCount(999), "999"},
		{FormatCount(1000), "1,000"},
		{FormatCount(1234567), "1,234,567"},
		{FormatRate(0), "0/s"},
		{FormatRate(3.44), "3.4/s"},
		{FormatRate(1249.6), "1,250/s"},
		{FormatBytes(512), "512 B"},
		{FormatBytes(3482), "3.4 KB"},
		{FormatBytes(2 << 20), "2.0 MB"},
		{FormatClock(time.Time{}), "–"},
		{FormatClock(time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)), "15:04:05"},
		{Truncate("héllo world", 5), "héllo…"},
		{Truncate("short", 5), "short"},
		{Truncate("x", 0), ""},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}

func TestRateMeter_RatesFromACounter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m RateMeter
	if m.Rate() != 0 || m.Series() != nil {
		t.Fatal("an empty meter has no rate")
	}
	for i := range 4 {
		m.Add(t0.Add(time.Duration(i)*time.Second), uint64(i*100))
	}
	m.Add(t0.Add(3*time.Second+time.Millisecond), 999) // too close: ignored
	if r := m.Rate(); r != 100 {
		t.Errorf("rate %v, want 100", r)
	}
	if s := m.Series(); len(s) != 3 || s[0] != 100 {
		t.Errorf("series %v", s)
	}
	m.Add(t0.Add(10*time.Second), 5) // counter restarted
	if m.Rate() != 0 {
		t.Errorf("rate after restart %v, want 0", m.Rate())
	}
	if pts := Sparkline([]float64{0, 10, 5}, 100, 20); pts != "0.0,20.0 50.0,0.0 100.0,10.0" {
		t.Errorf("sparkline %q", pts)
	}
}
