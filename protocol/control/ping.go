package control

// Ping is the client's keep-alive request {"type":"ping"}. The server answers
// with a Pong.
type Ping struct{}

// Type returns TypePing.
func (*Ping) Type() string { return TypePing }

// AppendJSON appends exactly {"type":"ping"}.
func (*Ping) AppendJSON(dst []byte) []byte { return append(beginObject(dst, TypePing), '}') }

// MarshalJSON implements json.Marshaler.
func (m *Ping) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// Pong is the server's reply to a Ping: exactly {"type":"pong"}.
type Pong struct{}

// Type returns TypePong.
func (*Pong) Type() string { return TypePong }

// AppendJSON appends exactly {"type":"pong"}.
func (*Pong) AppendJSON(dst []byte) []byte { return append(beginObject(dst, TypePong), '}') }

// MarshalJSON implements json.Marshaler.
func (m *Pong) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }
