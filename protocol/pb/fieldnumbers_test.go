package pb

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// The upstream DashStream v1 schema, written out field by field from the
// upstream reference (not from our .proto): name = number and wire type.
// A renumbering, a type change, a missing or an extra field or enum value
// in dashstream.proto fails this test.
var wantFields = map[string]string{
	"DashStreamMessage":   "event=1 message; state_diff=2 message; token_chunk=3 message; tool_execution=4 message; checkpoint=5 message; metrics=6 message; error=7 message; event_batch=8 message; execution_trace=9 message",
	"Header":              "message_id=1 bytes; timestamp_us=2 int64; tenant_id=3 string; thread_id=4 string; sequence=5 uint64; type=6 enum; parent_id=7 bytes; compression=8 enum; schema_version=9 uint32",
	"Event":               "header=1 message; event_type=2 enum; node_id=3 string; attributes=4 map; duration_us=5 int64; llm_request_id=6 string",
	"EventBatch":          "header=1 message; events=2 repeated message",
	"StateDiff":           "header=1 message; base_checkpoint_id=2 bytes; operations=3 repeated message; state_hash=4 bytes; full_state=5 bytes",
	"DiffOperation":       "op=1 enum; path=2 string; value=3 bytes; from=4 string; encoding=5 enum",
	"TokenChunk":          "header=1 message; request_id=2 string; text=3 string; token_ids=4 repeated uint32; logprobs=5 repeated float; chunk_index=6 uint32; is_final=7 bool; finish_reason=8 enum; model=9 string; stats=10 message",
	"TokenStats":          "prompt_tokens=1 uint32; completion_tokens=2 uint32; total_tokens=3 uint32",
	"ToolExecution":       "header=1 message; call_id=2 string; tool_name=3 string; stage=4 enum; arguments=5 bytes; result=6 bytes; error=7 string; error_details=8 message; duration_us=9 int64; retry_count=10 uint32",
	"Checkpoint":          "header=1 message; checkpoint_id=2 bytes; state=3 bytes; state_type=4 string; checksum=5 bytes; storage_uri=6 string; compression_info=7 message; metadata=8 map",
	"CompressionInfo":     "type=1 enum; compressed_size=2 uint64; uncompressed_size=3 uint64; compression_ratio=4 float",
	"Metrics":             "header=1 message; scope=2 string; scope_id=3 string; metrics=4 map; tags=5 map",
	"MetricValue":         "int_value=1 int64; float_value=2 double; string_value=3 string; bool_value=4 bool; bytes_value=5 bytes; unit=6 string; type=7 enum",
	"Error":               "header=1 message; error_code=2 string; message=3 string; stack_trace=4 string; context=5 map; severity=6 enum; exception_type=7 string; suggestions=8 repeated string",
	"AttributeValue":      "string_value=1 string; int_value=2 int64; float_value=3 double; bool_value=4 bool; bytes_value=5 bytes; array_value=6 message; map_value=7 message",
	"AttributeArray":      "values=1 repeated message",
	"AttributeMap":        "values=1 map",
	"Embedding":           "embedding_id=1 string; model=2 string; dimensions=3 uint32; encoding=4 enum; data=5 bytes",
	"MessageBatch":        "messages=1 repeated message; count=2 uint32",
	"ExecutionTrace":      "header=1 message; thread_id=2 string; execution_id=3 string; nodes_executed=4 repeated message; total_duration_ms=5 uint64; total_tokens=6 uint64; errors=7 repeated message; completed=8 bool; started_at=9 string; ended_at=10 string; final_state=11 bytes; metadata=12 map",
	"NodeExecutionRecord": "node=1 string; duration_ms=2 uint64; prompt_tokens=3 uint64; completion_tokens=4 uint64; total_tokens=5 uint64; succeeded=6 bool; started_at=7 string; ended_at=8 string; input=9 bytes; output=10 bytes; metadata=11 map",
	"ErrorRecord":         "node=1 string; message=2 string; error_code=3 string; timestamp=4 string; recovered=5 bool; stack_trace=6 string",
	"StreamControl":       "type=1 enum; thread_id=2 string",
}

// The value types of the map fields above.
var wantMapValues = map[string]string{
	"Event.attributes":             "AttributeValue",
	"Checkpoint.metadata":          "string",
	"Metrics.metrics":              "MetricValue",
	"Metrics.tags":                 "string",
	"Error.context":                "string",
	"AttributeMap.values":          "AttributeValue",
	"ExecutionTrace.metadata":      "bytes",
	"NodeExecutionRecord.metadata": "string",
}

var wantEnums = map[string]string{
	"MessageType":                  "MESSAGE_TYPE_UNSPECIFIED=0 MESSAGE_TYPE_EVENT=1 MESSAGE_TYPE_STATE_DIFF=2 MESSAGE_TYPE_TOKEN_CHUNK=3 MESSAGE_TYPE_TOOL_EXECUTION=4 MESSAGE_TYPE_CHECKPOINT=5 MESSAGE_TYPE_METRICS=6 MESSAGE_TYPE_ERROR=7 MESSAGE_TYPE_EVENT_BATCH=8 MESSAGE_TYPE_EXECUTION_TRACE=9",
	"CompressionType":              "COMPRESSION_NONE=0 COMPRESSION_ZSTD=1 COMPRESSION_LZ4=2 COMPRESSION_SNAPPY=3",
	"EventType":                    "EVENT_TYPE_UNSPECIFIED=0 EVENT_TYPE_GRAPH_START=1 EVENT_TYPE_GRAPH_END=2 EVENT_TYPE_GRAPH_ERROR=3 EVENT_TYPE_NODE_START=10 EVENT_TYPE_NODE_END=11 EVENT_TYPE_NODE_ERROR=12 EVENT_TYPE_EDGE_TRAVERSAL=20 EVENT_TYPE_CONDITIONAL_BRANCH=21 EVENT_TYPE_PARALLEL_START=22 EVENT_TYPE_PARALLEL_END=23 EVENT_TYPE_LLM_START=30 EVENT_TYPE_LLM_END=31 EVENT_TYPE_LLM_ERROR=32 EVENT_TYPE_LLM_RETRY=33 EVENT_TYPE_TOOL_START=40 EVENT_TYPE_TOOL_END=41 EVENT_TYPE_TOOL_ERROR=42 EVENT_TYPE_CHECKPOINT_SAVE=50 EVENT_TYPE_CHECKPOINT_LOAD=51 EVENT_TYPE_CHECKPOINT_DELETE=52 EVENT_TYPE_MEMORY_SAVE=60 EVENT_TYPE_MEMORY_LOAD=61 EVENT_TYPE_HUMAN_INTERRUPT=70 EVENT_TYPE_HUMAN_RESUME=71 EVENT_TYPE_NODE_PROGRESS=80 EVENT_TYPE_NODE_THINKING=81 EVENT_TYPE_NODE_SUBSTEP=82 EVENT_TYPE_NODE_WARNING=83 EVENT_TYPE_OPTIMIZATION_START=90 EVENT_TYPE_OPTIMIZATION_END=91",
	"DiffOperation.OpType":         "OP_TYPE_ADD=0 OP_TYPE_REMOVE=1 OP_TYPE_REPLACE=2 OP_TYPE_MOVE=3 OP_TYPE_COPY=4 OP_TYPE_TEST=5",
	"DiffOperation.ValueEncoding":  "VALUE_ENCODING_JSON=0 VALUE_ENCODING_MSGPACK=1 VALUE_ENCODING_PROTOBUF=2 VALUE_ENCODING_RAW=3",
	"TokenChunk.FinishReason":      "FINISH_REASON_NONE=0 FINISH_REASON_STOP=1 FINISH_REASON_LENGTH=2 FINISH_REASON_CONTENT_FILTER=3 FINISH_REASON_TOOL_CALLS=4 FINISH_REASON_ERROR=5",
	"ToolExecution.ExecutionStage": "EXECUTION_STAGE_UNSPECIFIED=0 EXECUTION_STAGE_REQUESTED=1 EXECUTION_STAGE_STARTED=2 EXECUTION_STAGE_COMPLETED=3 EXECUTION_STAGE_FAILED=4 EXECUTION_STAGE_RETRYING=5",
	"MetricValue.MetricType":       "METRIC_TYPE_UNSPECIFIED=0 METRIC_TYPE_COUNTER=1 METRIC_TYPE_GAUGE=2 METRIC_TYPE_HISTOGRAM=3 METRIC_TYPE_SUMMARY=4",
	"Error.Severity":               "SEVERITY_UNSPECIFIED=0 SEVERITY_DEBUG=1 SEVERITY_INFO=2 SEVERITY_WARNING=3 SEVERITY_ERROR=4 SEVERITY_FATAL=5",
	"Embedding.EmbeddingEncoding":  "EMBEDDING_ENCODING_FLOAT32=0 EMBEDDING_ENCODING_FLOAT16=1 EMBEDDING_ENCODING_INT8=2 EMBEDDING_ENCODING_BINARY=3",
	"StreamControl.ControlType":    "CONTROL_TYPE_START=0 CONTROL_TYPE_PAUSE=1 CONTROL_TYPE_RESUME=2 CONTROL_TYPE_STOP=3 CONTROL_TYPE_RESET=4",
}

// The oneofs: upstream's envelope, AttributeValue and MetricValue.
var wantOneofs = map[string]string{
	"DashStreamMessage": "message",
	"AttributeValue":    "value",
	"MetricValue":       "value",
}

const pkgPrefix = "dashstream.v1."

func describeField(f protoreflect.FieldDescriptor) string {
	kind := f.Kind().String()
	switch {
	case f.IsMap():
		kind = "map"
	case f.Kind() == protoreflect.GroupKind:
		kind = "group"
	}
	if f.Cardinality() == protoreflect.Repeated && !f.IsMap() {
		kind = "repeated " + kind
	}
	return fmt.Sprintf("%s=%d %s", f.Name(), f.Number(), kind)
}

func TestSchema_FieldNumbersMatchUpstream(t *testing.T) {
	fd := File_dashstream_proto
	if fd.Package() != "dashstream.v1" || fd.Syntax() != protoreflect.Proto3 {
		t.Fatalf("package %s syntax %v, want dashstream.v1 proto3", fd.Package(), fd.Syntax())
	}
	seen := map[string]bool{}
	var walk func(msgs protoreflect.MessageDescriptors)
	walk = func(msgs protoreflect.MessageDescriptors) {
		for i := range msgs.Len() {
			m := msgs.Get(i)
			if m.IsMapEntry() {
				continue
			}
			name := strings.TrimPrefix(string(m.FullName()), pkgPrefix)
			seen[name] = true
			want, ok := wantFields[name]
			if !ok {
				t.Errorf("message %s is not in the upstream schema", name)
				continue
			}
			var got []string
			for j := range m.Fields().Len() {
				f := m.Fields().Get(j)
				got = append(got, describeField(f))
				if f.IsMap() {
					key := name + "." + string(f.Name())
					v := f.MapValue()
					vt := v.Kind().String()
					if v.Message() != nil {
						vt = strings.TrimPrefix(string(v.Message().FullName()), pkgPrefix)
					}
					if f.MapKey().Kind() != protoreflect.StringKind || wantMapValues[key] != vt {
						t.Errorf("%s: map<%s, %s>, want map<string, %s>", key, f.MapKey().Kind(), vt, wantMapValues[key])
					}
				}
			}
			if g := strings.Join(got, "; "); g != want {
				t.Errorf("%s fields:\n got  %s\n want %s", name, g, want)
			}
			var oneofs []string
			for j := range m.Oneofs().Len() {
				oneofs = append(oneofs, string(m.Oneofs().Get(j).Name()))
			}
			if g := strings.Join(oneofs, ","); g != wantOneofs[name] {
				t.Errorf("%s oneofs %q, want %q", name, g, wantOneofs[name])
			}
			walk(m.Messages())
		}
	}
	walk(fd.Messages())
	for name := range wantFields {
		if !seen[name] {
			t.Errorf("upstream message %s is missing", name)
		}
	}
}

func TestSchema_EnumValuesMatchUpstream(t *testing.T) {
	got := map[string]string{}
	var collect func(enums protoreflect.EnumDescriptors)
	collect = func(enums protoreflect.EnumDescriptors) {
		for i := range enums.Len() {
			e := enums.Get(i)
			var vals []string
			for j := range e.Values().Len() {
				v := e.Values().Get(j)
				vals = append(vals, fmt.Sprintf("%s=%d", v.Name(), v.Number()))
			}
			got[strings.TrimPrefix(string(e.FullName()), pkgPrefix)] = strings.Join(vals, " ")
		}
	}
	collect(File_dashstream_proto.Enums())
	for i := range File_dashstream_proto.Messages().Len() {
		collect(File_dashstream_proto.Messages().Get(i).Enums())
	}
	var names []string
	for name := range wantEnums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if got[name] != wantEnums[name] {
			t.Errorf("enum %s:\n got  %s\n want %s", name, got[name], wantEnums[name])
		}
		delete(got, name)
	}
	for name := range got {
		t.Errorf("enum %s is not in the upstream schema", name)
	}
}
