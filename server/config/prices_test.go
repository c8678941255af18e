package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad_PricesFileOverridesAndExtendsTheBuiltinTable(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Prices == nil || c.PricesPath != "" {
		t.Fatalf("default: the built-in table, no file (%v, %q)", c.Prices, c.PricesPath)
	}
	if _, ok := c.Prices.Lookup("gpt-4o-mini"); !ok {
		t.Error("the built-in table prices gpt-4o-mini")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "prices.json")
	os.WriteFile(path, []byte(`{"gpt-4o-mini":{"input_per_million":1,"output_per_million":2},
		"llama-3.1-70b-instruct":{"input_per_million":0.5,"output_per_million":0.75}}`), 0o644)
	c, err = Load([]string{"--prices", path}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Prices.Lookup("gpt-4o-mini"); p.Input != 1 || p.Output != 2 {
		t.Errorf("the file overrides: %+v", p)
	}
	if _, ok := c.Prices.Lookup("llama-3.1-70b-instruct"); !ok {
		t.Error("the file extends")
	}
	if _, ok := c.Prices.Lookup("claude-3-5-sonnet"); !ok {
		t.Error("the built-in prices the file does not name stay")
	}
	if c.Effective()["DASHSTREAM_PRICES"] != path {
		t.Errorf("effective %q", c.Effective()["DASHSTREAM_PRICES"])
	}
}

func TestLoad_ABadPricesFileStopsTheStartNamingTheSetting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	big := write("big.json", `{"m":{"input_per_million":1,"output_per_million":1},"pad":"`+strings.Repeat("x", 1<<20)+`"}`)
	cases := map[string]string{
		"missing":     filepath.Join(dir, "nope.json"),
		"not json":    write("bad.json", "{"),
		"negative":    write("neg.json", `{"m":{"input_per_million":-1,"output_per_million":1}}`),
		"unknown key": write("key.json", `{"m":{"input":1}}`),
		"too large":   big,
		"a folder":    dir,
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(nil, env(map[string]string{"DASHSTREAM_PRICES": path}))
			if err == nil || !strings.Contains(err.Error(), "DASHSTREAM_PRICES / --prices") {
				t.Errorf("error %v does not name the setting", err)
			}
		})
	}
}
