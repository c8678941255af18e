package catalog

import "testing"

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"runs":[{"thread_id":"t","status":"failed","started_at":"2026-03-01T12:00:00Z","cost_usd":0.5,"models":[{"model":"m","calls":1}]}],"next":"n","total":9,"building":true}`))
	f.Add([]byte(`{"runs":[]}`))
	f.Add([]byte(`{"runs":[{"thread_id":""}]}`))
	f.Add([]byte(`{"runs":[{"thread_id":"t","started_at":null,"ended_at":"2026-13-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePage(b)
		if err != nil {
			return
		}
		for _, r := range p.Runs {
			if r.ThreadID == "" {
				t.Fatal("a run without a thread id was accepted")
			}
			// Whatever is accepted can be merged and shown.
			Overlay(r, r)
		}
		l := NewList(10)
		_, gen, _ := l.Request()
		l.Loaded(gen, p, nil)
		l.Rows(p.Runs)
		l.Refetch(p.Runs)
	})
}
