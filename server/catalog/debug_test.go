package catalog

import "fmt"

func (c *Catalog) debugString() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := fmt.Sprintf("runs %d building %v stats %+v;", len(c.runs), c.building, c.stats)
	for p, ps := range c.parts {
		s += fmt.Sprintf(" p%d{cov %d live %v start %d target %d}", p, ps.covered, ps.live, ps.logStart, ps.target)
	}
	return s
}
