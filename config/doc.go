// Package config owns shopauth's settings: the typed Config, its defaults,
// loading them from a YAML file and SHOPAUTH_* environment variables
// (defaults < file < environment), and checking them before anything starts.
//
// Only the wiring imports this package (app, and cli and bench, which hand
// it a loaded Config): app turns Config into each package's own Config
// struct, so server/, keys/ and web/ never see where a value came from.
//
// Loading uses koanf (github.com/knadh/koanf/v2) for reading the file,
// parsing YAML and collecting the environment, but decodes every value
// through one table of settings (settings.go) rather than koanf's
// mapstructure unmarshalling: that table is what lets an unknown key, a
// malformed duration or a bad number be reported with the exact file key or
// variable name, all at once, instead of a reflection path.
package config
