package source

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Unreadable reports whether a partition fetch error means the data at the
// fetch position cannot be read (a corrupt or missing batch), as opposed to
// a failure a retry heals: for readers of the topic other than the Source
// (the run catalog's rebuild), which skip such data as the Source does.
func Unreadable(err error) bool { return unreadable(err) }

// NextReadable returns the first offset of partition p at or after from
// that Kafka can read (the partition's end when nothing after from can be),
// probing as the Source does when it skips unreadable data.
func NextReadable(ctx context.Context, cl *kgo.Client, topic string, p int32, from int64) (int64, error) {
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("metadata: %w", err)
	}
	td := topics[topic]
	pd, ok := td.Partitions[p]
	if !ok || pd.Err != nil {
		return 0, fmt.Errorf("partition %d: no leader known", p)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("end offsets: %w", err)
	}
	eo, _ := ends.Lookup(topic, p)
	probe := func(o int64) (bool, error) { return readableAt(ctx, cl, topic, td.ID, pd.Leader, p, o) }
	ok, err = probe(from)
	if err != nil {
		return 0, fmt.Errorf("probing offset %d: %w", from, err)
	}
	if ok || from >= eo.Offset {
		return from, nil
	}
	return nextReadable(ctx, probe, from, eo.Offset)
}
