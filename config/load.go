package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// testEnvPrefix marks variables for the test suites (for example
// SHOPAUTH_TEST_MYSQL_DSN in CI), not for the server. Load skips them so a
// shell that runs the tests can also run shopauth.
const testEnvPrefix = EnvPrefix + "TEST_"

// Load reads the configuration: Defaults, overridden by the YAML file (when
// file is not empty), overridden by the SHOPAUTH_* entries of environ
// ("NAME=value", as os.Environ returns them). It fails on an unreadable
// file, an unknown key or variable, or a malformed value, reporting every
// such problem at once; whether the values make sense is Validate's job.
//
// An empty variable counts as unset, so that `SHOPAUTH_X=` from a compose
// file or a Kubernetes manifest keeps the file's or the default value.
func Load(file string, environ []string) (Config, error) {
	cfg := Defaults()
	table := settings()
	byKey := make(map[string]setting, len(table))
	byEnv := make(map[string]setting, len(table))
	for _, s := range table {
		byKey[s.key] = s
		byEnv[s.envName()] = s
	}

	var errs []error
	if file != "" {
		values, err := readFile(file)
		if err != nil {
			return Config{}, err
		}
		errs = append(errs, apply(&cfg, values, byKey, func(key string) string {
			return fmt.Sprintf("config file %s: %s", file, key)
		}, "key")...)
	}

	values, err := readEnv(environ)
	if err != nil {
		return Config{}, err
	}
	cfg.IgnoredVariables = dropServiceLinks(values)
	errs = append(errs, apply(&cfg, values, byEnv, func(name string) string { return name }, "variable")...)

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	normalize(&cfg)
	return cfg, nil
}

// serviceLink matches the variables Kubernetes injects into every pod of a
// namespace for a Service named "shopauth" (the natural name), which share
// our prefix: SHOPAUTH_SERVICE_HOST, SHOPAUTH_SERVICE_PORT and
// SHOPAUTH_SERVICE_PORT_<NAME> for each named port, and the Docker-link
// style SHOPAUTH_PORT, SHOPAUTH_PORT_<n>_<PROTO> and its _ADDR, _PORT and
// _PROTO for each port and protocol (TCP, UDP, SCTP). See
// docs/configuration.md. No setting's variable may match it
// (TestServiceLinksNeverShadowSettings).
var serviceLink = regexp.MustCompile(`^` + EnvPrefix +
	`(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)$`)

// dropServiceLinks removes the Kubernetes service-link variables from
// values and returns their names, sorted: they describe a Service, not
// shopauth's configuration, and would otherwise stop start-up as unknown.
func dropServiceLinks(values map[string]any) []string {
	var dropped []string
	for name := range values {
		if serviceLink.MatchString(name) {
			dropped = append(dropped, name)
			delete(values, name)
		}
	}
	slices.Sort(dropped)
	return dropped
}

// readFile returns the file's settings flattened to dotted keys, so a nested
// mapping (`http: {addr: …}`) shows up as an unknown key "http.addr" rather
// than being ignored.
func readFile(path string) (map[string]any, error) {
	k := koanf.New(".")
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return k.All(), nil
}

// readEnv returns the SHOPAUTH_* variables of environ by their full names.
func readEnv(environ []string) (map[string]any, error) {
	k := koanf.New(".")
	p := env.Provider("", env.Opt{
		Prefix: EnvPrefix,
		TransformFunc: func(name, value string) (string, any) {
			if strings.HasPrefix(name, testEnvPrefix) || strings.TrimSpace(value) == "" {
				return "", nil // skipped: see testEnvPrefix and Load
			}
			return name, value
		},
		EnvironFunc: func() []string { return environ },
	})
	if err := k.Load(p, nil); err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}
	return k.All(), nil
}

// apply decodes values into cfg through known, in name order so errors read
// the same on every run. where names a value's origin in an error; kind is
// what an unknown name is called ("key" or "variable").
func apply(cfg *Config, values map[string]any, known map[string]setting, where func(string) string, kind string) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(values)) {
		raw := values[name]
		s, ok := known[name]
		if !ok {
			msg := fmt.Sprintf("%s: unknown %s", where(name), kind)
			if near, ok := suggest(name, slices.Collect(maps.Keys(known))); ok {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if raw == nil {
			continue // `key:` with nothing after it in YAML: keep the default
		}
		if err := s.apply(cfg, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where(name), err))
		}
	}
	return errs
}

// normalize brings equivalent spellings to one form, so consumers compare
// plain strings: the issuer is used as a prefix of discovery URLs and must
// match `iss` byte for byte.
func normalize(cfg *Config) {
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	cfg.Log.Format = strings.ToLower(cfg.Log.Format)
	cfg.Log.Level = strings.ToLower(cfg.Log.Level)
}
