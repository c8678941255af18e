package demo

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Environment variables of the demo.
const (
	// EnvEnabled turns the demo on or off (true/false); see Enabled.
	EnvEnabled           = "DASHSTREAM_DEMO"
	EnvSeed              = "DASHSTREAM_DEMO_SEED"
	EnvRunsPerMinute     = "DASHSTREAM_DEMO_RUNS_PER_MINUTE"
	EnvMaxConcurrentRuns = "DASHSTREAM_DEMO_MAX_CONCURRENT_RUNS"
	EnvTimeScale         = "DASHSTREAM_DEMO_TIME_SCALE"
	EnvFailureRate       = "DASHSTREAM_DEMO_FAILURE_RATE"
	EnvTenantID          = "DASHSTREAM_DEMO_TENANT_ID"
	EnvMaxRuns           = "DASHSTREAM_DEMO_MAX_RUNS"
)

// Enabled says whether to run the demo: DASHSTREAM_DEMO when set (a
// boolean), otherwise on with the embedded broker and off when a real Kafka
// is configured (realKafka), so a production deployment never gets demo
// runs it did not ask for.
func Enabled(getenv func(string) string, realKafka bool) (bool, error) {
	v := strings.TrimSpace(getenv(EnvEnabled))
	if v == "" {
		return !realKafka, nil
	}
	on, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("demo: invalid %s: %q is not a boolean", EnvEnabled, v)
	}
	return on, nil
}

// ConfigFromEnv returns DefaultConfig changed by the DASHSTREAM_DEMO_*
// variables (an empty value counts as unset). An invalid value is an error
// naming the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	parse := func(name string, set func(string) error) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("demo: invalid %s: %q: %w", name, v, err))
			}
		}
	}
	parse(EnvSeed, func(v string) (err error) { c.Seed, err = strconv.ParseUint(v, 10, 64); return })
	parse(EnvRunsPerMinute, func(v string) (err error) { c.RunsPerMinute, err = positiveFloat(v); return })
	parse(EnvMaxConcurrentRuns, func(v string) (err error) { c.MaxConcurrentRuns, err = positiveInt(v); return })
	parse(EnvTimeScale, func(v string) (err error) { c.TimeScale, err = positiveFloat(v); return })
	parse(EnvFailureRate, func(v string) (err error) {
		c.FailureRate, err = strconv.ParseFloat(v, 64)
		if err == nil && (c.FailureRate < 0 || c.FailureRate > 1) {
			err = errors.New("not between 0 and 1")
		}
		return
	})
	parse(EnvTenantID, func(v string) error { c.TenantID = v; return nil })
	parse(EnvMaxRuns, func(v string) (err error) {
		c.MaxRuns, err = strconv.Atoi(v)
		if err == nil && c.MaxRuns < 0 {
			err = errors.New("negative")
		}
		return
	})
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

func positiveFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err == nil && !(f > 0) {
		err = errors.New("not a positive number")
	}
	return f, err
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err == nil && n < 1 {
		err = errors.New("not a positive integer")
	}
	return n, err
}

// RegisterFlags defines the demo's flags on fs, with c's values as defaults
// (so flags win over the environment when c came from ConfigFromEnv):
// --demo-seed, --demo-runs-per-minute, --demo-max-concurrent-runs,
// --demo-time-scale, --demo-failure-rate, --demo-tenant-id, --demo-max-runs.
// Parsing fs fills c.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Uint64Var(&c.Seed, "demo-seed", c.Seed, "demo: seed of the runs' content and thread ids; 0 picks one ("+EnvSeed+")")
	fs.Float64Var(&c.RunsPerMinute, "demo-runs-per-minute", c.RunsPerMinute, "demo: runs started per minute ("+EnvRunsPerMinute+")")
	fs.IntVar(&c.MaxConcurrentRuns, "demo-max-concurrent-runs", c.MaxConcurrentRuns, "demo: runs in progress at most ("+EnvMaxConcurrentRuns+")")
	fs.Float64Var(&c.TimeScale, "demo-time-scale", c.TimeScale, "demo: multiplies every wait, 1 = real time ("+EnvTimeScale+")")
	fs.Float64Var(&c.FailureRate, "demo-failure-rate", c.FailureRate, "demo: share of runs that fail, 0..1 ("+EnvFailureRate+")")
	fs.StringVar(&c.TenantID, "demo-tenant-id", c.TenantID, "demo: tenant_id of the runs ("+EnvTenantID+")")
	fs.IntVar(&c.MaxRuns, "demo-max-runs", c.MaxRuns, "demo: stop after this many runs, 0 = never ("+EnvMaxRuns+")")
}
