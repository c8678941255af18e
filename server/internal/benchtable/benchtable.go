// Package benchtable prints the lines make bench ends with (issue 13 §4):
// one per figure, "BENCHTABLE name | ours | baseline or peer | ratio | goal |
// met", for collecting into one table.
package benchtable

import "fmt"

// Print writes one line to standard output (where go test -bench reports).
func Print(name, ours, peer, ratio, goal string, met bool) {
	yes := "yes"
	if !met {
		yes = "NO"
	}
	fmt.Printf("BENCHTABLE %s | %s | %s | %s | %s | %s\n", name, ours, peer, ratio, goal, yes)
}
