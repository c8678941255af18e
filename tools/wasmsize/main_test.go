package main

import "testing"

// section frames a payload as wasm section id.
func section(id byte, payload ...byte) []byte {
	return append([]byte{id, byte(len(payload))}, payload...)
}

// tiny is a module with one imported function, two defined ones (bodies of
// 3 and 2 bytes) and a name section naming the import and the first body.
func tiny() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, section(1, 1, 0x60, 0, 0)...)                              // type: () -> ()
	b = append(b, section(2, 1, 2, 'g', 'o', 1, 'f', 0, 0)...)               // import go.f func type 0
	b = append(b, section(3, 2, 0, 0)...)                                    // two functions of type 0
	b = append(b, section(10, 2, 3, 0, 0x01, 0x0b, 2, 0, 0x0b)...)           // code: bodies of 3 and 2 bytes, each after its size
	names := []byte{4, 'n', 'a', 'm', 'e', 1, 20, 2, 0, 3, 'g', 'o', 'f', 1} // subsection 1: two names
	names = append(names, append([]byte{12}, "github.com_x.F"[:12]...)...)
	b = append(b, section(0, names...)...)
	return b
}

func TestParse_NamesBodiesAfterImports(t *testing.T) {
	m, err := Parse(tiny())
	if err != nil {
		t.Fatal(err)
	}
	// Index 0 is the import, so the first body is index 1: "github.com_x".
	if got := m.FuncBytes["github.com_x"]; got != 3 {
		t.Errorf("named body: %d bytes, want 3 (%v)", got, m.FuncBytes)
	}
	if got := m.FuncBytes["func2"]; got != 2 {
		t.Errorf("unnamed body: %d bytes, want 2 (%v)", got, m.FuncBytes)
	}
	if m.Sections["code"] != 8 || m.Sections["custom:name"] == 0 {
		t.Errorf("sections: %v", m.Sections)
	}
}

func TestParse_HostileInputFailsCleanly(t *testing.T) {
	good := tiny()
	cases := map[string][]byte{
		"empty":            nil,
		"not wasm":         []byte("\x7fELF\x01\x00\x00\x00"),
		"truncated":        good[:len(good)-5],
		"section too long": append(append([]byte{}, good[:8]...), 10, 0x7f, 1),
		"endless LEB128":   append(append([]byte{}, good[:8]...), 10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"bad import kind":  append(append([]byte{}, good[:8]...), section(2, 1, 0, 0, 9)...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(b); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestPackageOf(t *testing.T) {
	for fn, want := range map[string]string{
		"fmt.Sprintf": "fmt",
		"github.com_dashstream_dashstream_app_ui.__RunPage_.Render": "github.com_dashstream_dashstream_app_ui",
		"google.golang.org_protobuf_proto.Marshal":                  "google.golang.org_protobuf_proto",
		"type_.eq.github.com_x_y.T":                                 "github.com_x_y",
		"slices.SortFunc_go.shape.string_":                          "slices",
		"runtime.mapassign_faststr":                                 "runtime",
		"memchr":                                                    "memchr",
	} {
		if got := PackageOf(fn); got != want {
			t.Errorf("PackageOf(%q) = %q, want %q", fn, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(tiny())
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		total := 0
		for _, n := range m.FuncBytes {
			total += n
		}
		if total > len(b) {
			t.Fatalf("more function bytes (%d) than input (%d)", total, len(b))
		}
	})
}
