package control

import (
	"encoding/base64"
	"slices"
	"strings"
)

// ResumeNamespace returns the upstream resume namespace of a deployment: the
// name that scopes its Redis replay keys (dashstream-replay:{namespace}) and
// the clients' stored cursors, so that cursors are never applied to another
// topic, consumer group or cluster.
//
// The brokers list is normalised: split on ",", each part trimmed, empty
// parts dropped, sorted bytewise ascending and joined with "," (duplicates
// are kept, as upstream). The raw form is
// "topic={topic};group={group};brokers={brokers}", or with a non-empty
// clusterID "cluster={clusterID};topic=…;group=…;brokers=…". The result is
// "v1_" (with a cluster id: "v2_") followed by the unpadded base64url encoding
// of the raw form.
func ResumeNamespace(topic, group, brokers, clusterID string) string {
	parts := strings.Split(brokers, ",")
	normalized := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			normalized = append(normalized, p)
		}
	}
	slices.Sort(normalized)

	var raw strings.Builder
	prefix := "v1_"
	if clusterID != "" {
		prefix = "v2_"
		raw.WriteString("cluster=")
		raw.WriteString(clusterID)
		raw.WriteByte(';')
	}
	raw.WriteString("topic=")
	raw.WriteString(topic)
	raw.WriteString(";group=")
	raw.WriteString(group)
	raw.WriteString(";brokers=")
	raw.WriteString(strings.Join(normalized, ","))
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(raw.String()))
}
