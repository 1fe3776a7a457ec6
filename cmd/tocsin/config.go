package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"
)

// Default values of the settings that have one.
const (
	defaultAddr               = "127.0.0.1:9000"
	defaultDataDir            = "./tocsin-data"
	defaultSlackAPIURL        = "https://slack.com/api/"
	defaultGitHubAPIURL       = "https://api.github.com/"
	defaultTrelloAPIURL       = "https://api.trello.com/1"
	defaultLogFormat          = "text"
	defaultEventRetentionDays = 90

	// defaultConfigFile is read when neither --config nor TOCSIN_CONFIG names a file
	// and it exists in the working directory.
	defaultConfigFile = "tocsin.toml"

	// configEnv names the config file, like --config.
	configEnv = "TOCSIN_CONFIG"

	// minSecretKeyLen and minPasswordLen are the shortest accepted secret key and
	// admin password, in characters.
	minSecretKeyLen = 32
	minPasswordLen  = 8
)

// Config is every setting of Tocsin, parsed once and passed down as a plain struct.
//
// Each setting has a key in the config file (as in addr), an environment variable
// (TOCSIN_ plus the key in upper case) and, unless it is a secret, a flag (the key
// with dashes). See settings for the list.
type Config struct {
	Addr                 string // listen address, host:port
	BaseURL              string // public address used in DSNs and links, without trailing slash
	DataDir              string // SQLite file, secret key, stored attachments
	DatabaseURL          string // "" for SQLite in DataDir, or postgres://…, sqlite:PATH, file:PATH
	SecretKey            string // "" means the caller generates or reads one in DataDir
	AdminEmail           string // first-run superuser
	AdminPassword        string // first-run superuser
	SMTPURL              string // smtp[s]://[user:pass@]host[:port][?tls=none|starttls|tls]
	MailFrom             string // sender address of outgoing mail
	AllowPrivateWebhooks bool   // let outgoing webhooks reach loopback and private addresses
	SlackAPIURL          string // Slack Web API base, ending in /api/
	GitHubAPIURL         string // GitHub REST API base
	TrelloAPIURL         string // Trello REST API base, ending in /1
	LogFormat            string // "text" or "json"
	EventRetentionDays   int    // days events are kept, at least 1
	DebugAddr            string // profiling listener (net/http/pprof), "" for none
	ConfigFile           string // the config file that was read, "" if none
}

// setting describes one configuration setting: how it is named in the config file,
// the environment and on the command line, and where it lives in Config.
type setting struct {
	key     string                // key in the config file; the env variable and flag derive from it
	noFlag  bool                  // secrets don't belong on a command line
	secret  bool                  // never printed
	urlLike bool                  // printed with the userinfo password redacted
	doc     string                // one line: the flag usage and the config file comment
	more    []string              // further comment lines for the config file
	field   func(c *Config) any   // *string, *bool or *int inside c
	show    func(c Config) string // the default as shown in the config file template, if not field's value
}

// env returns the environment variable of the setting.
func (s setting) env() string { return "TOCSIN_" + strings.ToUpper(s.key) }

// flag returns the flag name of the setting, "" when it has none.
func (s setting) flag() string {
	if s.noFlag {
		return ""
	}
	return strings.ReplaceAll(s.key, "_", "-")
}

// settings returns every setting in the order they are documented, checked and
// written to the config file template.
func settings() []setting {
	return []setting{
		{
			key: "addr", doc: "listen address, host:port (an empty host listens on all interfaces)",
			field: func(c *Config) any { return &c.Addr },
		},
		{
			key: "base_url", doc: "public address of Tocsin, used in DSNs and links (default http:// + addr)",
			more:  []string{"Set it when Tocsin runs behind a proxy or listens on all interfaces."},
			field: func(c *Config) any { return &c.BaseURL },
			show:  func(c Config) string { return defaultBaseURL(c.Addr) },
		},
		{
			key: "data_dir", doc: "directory for the SQLite file, the generated secret key and stored attachments",
			more:  []string{"In this file a relative path is resolved against the directory of this file."},
			field: func(c *Config) any { return &c.DataDir },
		},
		{
			key: "database_url", urlLike: true, doc: "database: empty for SQLite in data_dir, postgres://… selects PostgreSQL",
			more:  []string{"Also accepted: sqlite:PATH, sqlite://PATH, file:PATH."},
			field: func(c *Config) any { return &c.DatabaseURL },
		},
		{
			key: "secret_key", noFlag: true, secret: true,
			doc: "signs sessions and encrypts integration secrets; at least 32 characters",
			more: []string{
				"All processes of one deployment must share it. Changing it signs everybody out",
				"and makes the stored integration secrets unreadable. Empty: generated into data_dir.",
			},
			field: func(c *Config) any { return &c.SecretKey },
		},
		{
			key: "admin_email", noFlag: true, doc: "email address of the superuser created on first run",
			field: func(c *Config) any { return &c.AdminEmail },
		},
		{
			key: "admin_password", noFlag: true, secret: true,
			doc:   "password of that superuser, at least 8 characters (empty: generated and printed once)",
			field: func(c *Config) any { return &c.AdminPassword },
		},
		{
			key: "smtp_url", urlLike: true, doc: "mail server, smtp://[user:pass@]host:port?tls=none|starttls|tls",
			more:  []string{"tls defaults to starttls, or tls on port 465; smtps:// means tls. Empty: no mail."},
			field: func(c *Config) any { return &c.SMTPURL },
		},
		{
			key: "mail_from", doc: "sender address of outgoing mail, required with smtp_url",
			field: func(c *Config) any { return &c.MailFrom },
		},
		{
			key: "allow_private_webhooks", doc: "let outgoing webhooks reach loopback and private addresses",
			field: func(c *Config) any { return &c.AllowPrivateWebhooks },
		},
		{
			key: "slack_api_url", urlLike: true, doc: "Slack Web API base, with its trailing /api/",
			field: func(c *Config) any { return &c.SlackAPIURL },
		},
		{
			key: "github_api_url", urlLike: true, doc: "GitHub REST API base (https://HOST/api/v3/ for GitHub Enterprise Server)",
			field: func(c *Config) any { return &c.GitHubAPIURL },
		},
		{
			key: "trello_api_url", urlLike: true, doc: "Trello REST API base, ending in /1",
			field: func(c *Config) any { return &c.TrelloAPIURL },
		},
		{
			key: "log_format", doc: "log format: text or json",
			field: func(c *Config) any { return &c.LogFormat },
		},
		{
			key: "event_retention_days", doc: "days to keep events, at least 1",
			field: func(c *Config) any { return &c.EventRetentionDays },
		},
		{
			key: "debug_addr", doc: "listen address of Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; empty: off",
			more:  []string{"It has no authentication: keep it on loopback or a private network."},
			field: func(c *Config) any { return &c.DebugAddr },
		},
	}
}

// settingNamed returns the setting with the given config file key; it panics on an
// unknown key, which is a programming error.
func settingNamed(key string) setting {
	for _, s := range settings() {
		if s.key == key {
			return s
		}
	}
	panic("tocsin: unknown setting " + key)
}

// settingError reports a bad value of one setting, naming it by its config file key
// and its environment variable, on one line.
type settingError struct {
	Key string // config file key, as in addr
	Env string // environment variable, as in TOCSIN_ADDR
	Err error  // what is wrong
}

// Error returns "invalid setting KEY (ENV): REASON" on one line.
func (e *settingError) Error() string {
	msg := fmt.Sprintf("invalid setting %s (%s): %v", e.Key, e.Env, e.Err)
	return strings.Join(strings.Fields(msg), " ")
}

// Unwrap returns the reason.
func (e *settingError) Unwrap() error { return e.Err }

// invalid returns a *settingError for the setting with the given key.
func invalid(key string, format string, args ...any) error {
	return &settingError{Key: key, Env: settingNamed(key).env(), Err: fmt.Errorf(format, args...)}
}

// defaultConfig returns the defaults of every setting; BaseURL stays empty because
// it follows the final Addr.
func defaultConfig() Config {
	return Config{
		Addr:               defaultAddr,
		DataDir:            defaultDataDir,
		SlackAPIURL:        defaultSlackAPIURL,
		GitHubAPIURL:       defaultGitHubAPIURL,
		TrelloAPIURL:       defaultTrelloAPIURL,
		LogFormat:          defaultLogFormat,
		EventRetentionDays: defaultEventRetentionDays,
	}
}

// defaultBaseURL returns "http://" + addr, naming localhost when addr listens on all
// interfaces (empty host, 0.0.0.0 or ::), since such an address can't be dialled.
func defaultBaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// registerFlags adds the persistent flags of Tocsin, including --config PATH, to fs.
// Secrets (secret_key, admin_email, admin_password) have no flag.
func registerFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (env "+configEnv+"; default ./"+defaultConfigFile+" when it exists)")
	def := defaultConfig()
	for _, s := range settings() {
		name := s.flag()
		if name == "" {
			continue
		}
		usage := s.doc + " (env " + s.env() + ")"
		switch p := s.field(&def).(type) {
		case *string:
			fs.String(name, *p, usage)
		case *bool:
			fs.Bool(name, *p, usage)
		case *int:
			fs.Int(name, *p, usage)
		}
	}
}

// loadConfig builds the Config: defaults < config file < environment < flags.
// Only flags that fs.Changed reports override. getenv is os.Getenv in production, a
// map in tests; an empty variable counts as unset. It calls validate() and returns
// its error.
func loadConfig(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	return loadConfigFrom(fs, getenv, defaultConfigFile)
}

// loadConfigFrom is loadConfig reading fallback, when it exists, if neither --config
// nor TOCSIN_CONFIG names a config file.
func loadConfigFrom(fs *pflag.FlagSet, getenv func(string) string, fallback string) (Config, error) {
	cfg := defaultConfig()

	path, explicit := configPath(fs, getenv)
	if !explicit {
		if _, err := os.Stat(fallback); err == nil {
			path = fallback
		} else if !errors.Is(err, os.ErrNotExist) {
			return Config{}, fmt.Errorf("config file %s: %w", fallback, err)
		}
	}
	if path != "" {
		if err := applyFile(&cfg, path); err != nil {
			return Config{}, err
		}
		cfg.ConfigFile = path
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	if err := applyFlags(&cfg, fs); err != nil {
		return Config{}, err
	}

	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL(cfg.Addr)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")

	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// configPath returns the config file named by --config or TOCSIN_CONFIG, and whether
// one was named.
func configPath(fs *pflag.FlagSet, getenv func(string) string) (string, bool) {
	if f := fs.Lookup("config"); f != nil && f.Changed && f.Value.String() != "" {
		return f.Value.String(), true
	}
	if p := getenv(configEnv); p != "" {
		return p, true
	}
	return "", false
}

// applyFile sets the settings present in the TOML config file at path. Unknown keys
// are an error, and a relative data_dir is resolved against the file's directory.
func applyFile(cfg *Config, path string) error {
	list := settings()

	// Decode into a struct built from settings(), one toml.Primitive field per
	// key, so that MetaData.Undecoded reports exactly the unknown keys (a map
	// would mark every key decoded) while settings() stays the only list.
	fields := make([]reflect.StructField, len(list))
	for i, s := range list {
		fields[i] = reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: reflect.TypeFor[toml.Primitive](),
			Tag:  reflect.StructTag(`toml:"` + s.key + `"`),
		}
	}
	raw := reflect.New(reflect.StructOf(fields))
	md, err := toml.DecodeFile(path, raw.Interface())
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if unknown := unknownKeys(md.Undecoded()); len(unknown) > 0 {
		noun := "setting"
		if len(unknown) > 1 {
			noun = "settings"
		}
		return fmt.Errorf("config file %s: unknown %s %s", path, noun, strings.Join(unknown, ", "))
	}

	for i, s := range list {
		f := raw.Elem().Field(i)
		if f.IsZero() {
			continue // absent from the file
		}
		if err := md.PrimitiveDecode(f.Interface().(toml.Primitive), s.field(cfg)); err != nil {
			return &settingError{Key: s.key, Env: s.env(), Err: fmt.Errorf("in config file %s: %w", path, err)}
		}
		if s.key == "data_dir" && cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) {
			cfg.DataDir = filepath.Join(filepath.Dir(path), cfg.DataDir)
		}
	}
	return nil
}

// unknownKeys returns the undecoded keys quoted, leaving out those inside a table
// that is itself listed (for [smtp] host = …, only "smtp").
func unknownKeys(undecoded []toml.Key) []string {
	var out []string
	var tables []string
	for _, k := range undecoded {
		name := k.String()
		inside := false
		for _, t := range tables {
			if strings.HasPrefix(name, t+".") {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		tables = append(tables, name)
		out = append(out, strconv.Quote(name))
	}
	return out
}

// applyEnv sets the settings whose environment variable is not empty.
func applyEnv(cfg *Config, getenv func(string) string) error {
	for _, s := range settings() {
		v := getenv(s.env())
		if v == "" {
			continue
		}
		switch p := s.field(cfg).(type) {
		case *string:
			*p = v
		case *bool:
			b, ok := parseBool(v)
			if !ok {
				return invalid(s.key, "%q is not a boolean (use true/false, 1/0, yes/no or on/off)", v)
			}
			*p = b
		case *int:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return invalid(s.key, "%q is not a whole number", v)
			}
			*p = n
		}
	}
	return nil
}

// parseBool reads true/false, 1/0, yes/no and on/off in any case.
func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// applyFlags sets the settings whose flag fs.Changed reports.
func applyFlags(cfg *Config, fs *pflag.FlagSet) error {
	for _, s := range settings() {
		name := s.flag()
		if name == "" || !fs.Changed(name) {
			continue
		}
		var err error
		switch p := s.field(cfg).(type) {
		case *string:
			*p, err = fs.GetString(name)
		case *bool:
			*p, err = fs.GetBool(name)
		case *int:
			*p, err = fs.GetInt(name)
		}
		if err != nil {
			return fmt.Errorf("read flag --%s: %w", name, err)
		}
	}
	return nil
}

// redactURL returns raw with the password of its userinfo replaced by "xxxxx", as
// url.URL.Redacted does. It also copes with URLs that don't parse and with
// passwords holding '/', '?', '#' or '@': everything between the first ':' after
// the scheme's "//" and the last '@' counts as password, so it may redact too much
// but never too little.
func redactURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + len("://")
	} else if i := strings.Index(raw, ":"); i >= 0 && i < at {
		start = i + 1 // opaque form, as in scheme:user:pass@host
	}
	colon := strings.Index(raw[start:at], ":")
	if colon < 0 {
		return raw
	}
	return raw[:start+colon+1] + "xxxxx" + raw[at:]
}

// String returns the settings as key=value pairs with secrets left out and URL
// passwords redacted, for logs and `tocsin check`.
func (c Config) String() string {
	var b strings.Builder
	for i, s := range settings() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.key)
		b.WriteByte('=')
		b.WriteString(c.shown(s))
	}
	if c.ConfigFile != "" {
		b.WriteString(" config_file=" + strconv.Quote(c.ConfigFile))
	}
	return b.String()
}

// LogValue returns the settings as a slog group, with secrets left out and URL
// passwords redacted, so that logging a Config can't leak them.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range settings() {
		attrs = append(attrs, slog.String(s.key, c.shown(s)))
	}
	attrs = append(attrs, slog.String("config_file", c.ConfigFile))
	return slog.GroupValue(attrs...)
}

// shown returns the value of setting s in c as it may be printed.
func (c Config) shown(s setting) string {
	switch p := s.field(&c).(type) {
	case *string:
		switch {
		case *p == "":
			return `""`
		case s.secret:
			return "[redacted]"
		case s.urlLike:
			return strconv.Quote(redactURL(*p))
		}
		return strconv.Quote(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	}
	return ""
}
