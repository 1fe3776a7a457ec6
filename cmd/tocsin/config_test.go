package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// loadBundle is what a loadConfig test varies: a config file, the environment and
// the command line.
type loadBundle struct {
	dir      string            // a fresh temporary directory
	fallback string            // the ./tocsin.toml stand-in, absent unless written
	env      map[string]string // the environment getenv reads
}

// setup returns an empty bundle for one test.
func setup(t *testing.T) *loadBundle {
	t.Helper()
	dir := t.TempDir()
	return &loadBundle{dir: dir, fallback: filepath.Join(dir, "tocsin.toml"), env: map[string]string{}}
}

// writeFile writes content to name inside the bundle's directory and returns its path.
func (b *loadBundle) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(b.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// load parses args with a fresh flag set and loads the Config.
func (b *loadBundle) load(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("tocsin", pflag.ContinueOnError)
	registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return loadConfigFrom(fs, func(k string) string { return b.env[k] }, b.fallback)
}

// validConfig returns a Config that passes validate, with every setting filled.
func validConfig() Config {
	c := defaultConfig()
	c.BaseURL = "https://errors.example.com"
	c.DatabaseURL = "postgres://tocsin:pw@db.example.com:5432/tocsin?sslmode=require"
	c.SecretKey = strings.Repeat("k", 32)
	c.AdminEmail = "admin@example.com"
	c.AdminPassword = "password"
	c.SMTPURL = "smtp://user:pass@mail.example.com:587?tls=starttls"
	c.MailFrom = "Tocsin <tocsin@example.com>"
	return c
}

func TestLoadConfig_Defaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.load(t)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig()
	want.BaseURL = "http://127.0.0.1:9000"
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.SlackAPIURL != "https://slack.com/api/" || got.GitHubAPIURL != "https://api.github.com/" ||
		got.TrelloAPIURL != "https://api.trello.com/1" || got.DataDir != "./tocsin-data" ||
		got.LogFormat != "text" || got.EventRetentionDays != 90 || got.AllowPrivateWebhooks {
		t.Errorf("defaults differ from the documented ones: %+v", got)
	}
}

func TestLoadConfig_Precedence(t *testing.T) {
	t.Parallel()

	// Each setting has a distinct value per layer; the case says which layers are set.
	type layers struct{ file, env, flag string }
	settingsUnderTest := []struct {
		key   string
		file  string // TOML value
		env   string
		flag  string // flag argument
		vals  layers // what each layer yields, as read back by get
		deflt string
		get   func(Config) string
	}{
		{
			key: "addr", file: `"127.0.0.1:1001"`, env: "127.0.0.1:1002", flag: "--addr=127.0.0.1:1003",
			vals: layers{"127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"}, deflt: "127.0.0.1:9000",
			get: func(c Config) string { return c.Addr },
		},
		{
			key: "log_format", file: `"json"`, env: "text", flag: "--log-format=json",
			vals: layers{"json", "text", "json"}, deflt: "text",
			get: func(c Config) string { return c.LogFormat },
		},
		{
			key: "event_retention_days", file: `10`, env: "20", flag: "--event-retention-days=30",
			vals: layers{"10", "20", "30"}, deflt: "90",
			get: func(c Config) string { return strconv.Itoa(c.EventRetentionDays) },
		},
		{
			key: "allow_private_webhooks", file: `true`, env: "no", flag: "--allow-private-webhooks",
			vals: layers{"true", "false", "true"}, deflt: "false",
			get: func(c Config) string { return strconv.FormatBool(c.AllowPrivateWebhooks) },
		},
		{
			key: "slack_api_url", file: `"http://file.test/api/"`, env: "http://env.test/api/", flag: "--slack-api-url=http://flag.test/api/",
			vals: layers{"http://file.test/api/", "http://env.test/api/", "http://flag.test/api/"}, deflt: "https://slack.com/api/",
			get: func(c Config) string { return c.SlackAPIURL },
		},
	}

	for _, tc := range []struct {
		name            string
		file, env, flag bool
		wantLayer       string // "default", "file", "env" or "flag"
	}{
		{name: "default", wantLayer: "default"},
		{name: "file over default", file: true, wantLayer: "file"},
		{name: "env over file", file: true, env: true, wantLayer: "env"},
		{name: "env over default", env: true, wantLayer: "env"},
		{name: "flag over env and file", file: true, env: true, flag: true, wantLayer: "flag"},
		{name: "flag over file", file: true, flag: true, wantLayer: "flag"},
		{name: "flag over default", flag: true, wantLayer: "flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range settingsUnderTest {
				t.Run(s.key, func(t *testing.T) {
					t.Parallel()
					b := setup(t)
					var args []string
					if tc.file {
						p := b.writeFile(t, "conf/tocsin.toml", s.key+" = "+s.file+"\n")
						args = append(args, "--config", p)
					}
					if tc.env {
						b.env[settingNamed(s.key).env()] = s.env
					}
					if tc.flag {
						args = append(args, s.flag)
					}
					got, err := b.load(t, args...)
					if err != nil {
						t.Fatal(err)
					}
					want := map[string]string{"default": s.deflt, "file": s.vals.file, "env": s.vals.env, "flag": s.vals.flag}[tc.wantLayer]
					if v := s.get(got); v != want {
						t.Errorf("%s = %q, want %q (from %s)", s.key, v, want, tc.wantLayer)
					}
				})
			}
		})
	}
}

func TestLoadConfig_UnchangedFlagDoesNotOverride(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["TOCSIN_ADDR"] = "127.0.0.1:7000"
	b.env["TOCSIN_LOG_FORMAT"] = "json"
	// --log-format is given explicitly with its default value: Changed, so it wins.
	got, err := b.load(t, "--log-format=text")
	if err != nil {
		t.Fatal(err)
	}
	if got.Addr != "127.0.0.1:7000" {
		t.Errorf("Addr = %q: a flag left at its default overrode the environment", got.Addr)
	}
	if got.LogFormat != "text" {
		t.Errorf("LogFormat = %q, want the explicitly given flag value text", got.LogFormat)
	}
}

func TestLoadConfig_ConfigFileChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		flag     string // --config value, "" for none; "flag.toml" etc. are written
		env      string // TOCSIN_CONFIG
		fallback bool   // write the ./tocsin.toml stand-in
		wantAddr string
		wantFile string // base name of ConfigFile
		wantErr  string
	}{
		{name: "none", wantAddr: "127.0.0.1:9000"},
		{name: "fallback", fallback: true, wantAddr: "127.0.0.1:3", wantFile: "tocsin.toml"},
		{name: "env beats fallback", env: "env.toml", fallback: true, wantAddr: "127.0.0.1:2", wantFile: "env.toml"},
		{name: "flag beats env", flag: "flag.toml", env: "env.toml", fallback: true, wantAddr: "127.0.0.1:1", wantFile: "flag.toml"},
		{name: "missing flag file", flag: "missing.toml", fallback: true, wantErr: "missing.toml"},
		{name: "missing env file", env: "missing.toml", fallback: true, wantErr: "missing.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.writeFile(t, "flag.toml", `addr = "127.0.0.1:1"`)
			b.writeFile(t, "env.toml", `addr = "127.0.0.1:2"`)
			if tc.fallback {
				b.writeFile(t, "tocsin.toml", `addr = "127.0.0.1:3"`)
			}
			var args []string
			if tc.flag != "" {
				args = append(args, "--config="+filepath.Join(b.dir, tc.flag))
			}
			if tc.env != "" {
				b.env["TOCSIN_CONFIG"] = filepath.Join(b.dir, tc.env)
			}
			got, err := b.load(t, args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want a not-exist error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Addr != tc.wantAddr {
				t.Errorf("Addr = %q, want %q", got.Addr, tc.wantAddr)
			}
			wantFile := ""
			if tc.wantFile != "" {
				wantFile = filepath.Join(b.dir, tc.wantFile)
			}
			if got.ConfigFile != wantFile {
				t.Errorf("ConfigFile = %q, want %q", got.ConfigFile, wantFile)
			}
		})
	}
}

func TestLoadConfig_FileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		want    []string // substrings of the error besides the file name
	}{
		{name: "unknown key", content: "adr = \"127.0.0.1:1\"\n", want: []string{`unknown setting "adr"`}},
		{name: "unknown keys", content: "adr = 1\nlog_format = \"json\"\n[smtp]\nhost = \"x\"\n", want: []string{`unknown settings "adr", "smtp"`}},
		{name: "secret under its env name", content: "TOCSIN_SECRET_KEY = \"x\"\n", want: []string{`unknown setting "TOCSIN_SECRET_KEY"`}},
		{name: "wrong type", content: "event_retention_days = \"30\"\n", want: []string{"invalid setting event_retention_days (TOCSIN_EVENT_RETENTION_DAYS)"}},
		{name: "bool as string", content: "allow_private_webhooks = \"yes\"\n", want: []string{"invalid setting allow_private_webhooks (TOCSIN_ALLOW_PRIVATE_WEBHOOKS)"}},
		{name: "syntax", content: "addr = \n", want: []string{"line 1"}},
		{name: "invalid value", content: "log_format = \"xml\"\n", want: []string{"invalid setting log_format (TOCSIN_LOG_FORMAT)", `"xml"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			path := b.writeFile(t, "tocsin.toml", tc.content)
			_, err := b.load(t, "--config", path)
			if err == nil {
				t.Fatal("loaded a bad config file")
			}
			msg := err.Error()
			if tc.name != "invalid value" && !strings.Contains(msg, path) {
				t.Errorf("error %q doesn't name the file %s", msg, path)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q doesn't contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans several lines", msg)
			}
		})
	}
}

func TestLoadConfig_DataDirResolution(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		file    string // data_dir in the file at DIR/etc/tocsin.toml, "" for none
		env     string
		flag    string
		want    func(dir string) string
		useFile bool
	}{
		{name: "relative in file", file: "tocsin-data", useFile: true, want: func(dir string) string { return filepath.Join(dir, "etc", "tocsin-data") }},
		{name: "dotted relative in file", file: "../var/data", useFile: true, want: func(dir string) string { return filepath.Join(dir, "var", "data") }},
		{name: "absolute in file", file: "/srv/tocsin/data", useFile: true, want: func(string) string { return "/srv/tocsin/data" }},
		{name: "default with file", useFile: true, want: func(string) string { return "./tocsin-data" }},
		{name: "relative env beats file", file: "tocsin-data", useFile: true, env: "rel/env", want: func(string) string { return "rel/env" }},
		{name: "relative flag beats file", file: "tocsin-data", useFile: true, flag: "rel/flag", want: func(string) string { return "rel/flag" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var args []string
			if tc.useFile {
				content := "log_format = \"text\"\n"
				if tc.file != "" {
					content += "data_dir = \"" + tc.file + "\"\n"
				}
				args = append(args, "--config", b.writeFile(t, "etc/tocsin.toml", content))
			}
			if tc.env != "" {
				b.env["TOCSIN_DATA_DIR"] = tc.env
			}
			if tc.flag != "" {
				args = append(args, "--data-dir", tc.flag)
			}
			got, err := b.load(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(b.dir); got.DataDir != want {
				t.Errorf("DataDir = %q, want %q", got.DataDir, want)
			}
		})
	}
}

func TestLoadConfig_BaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr string
	}{
		{name: "default", want: "http://127.0.0.1:9000"},
		{name: "follows env addr", env: map[string]string{"TOCSIN_ADDR": "10.0.0.5:8080"}, want: "http://10.0.0.5:8080"},
		{name: "follows flag addr", args: []string{"--addr=example.com:80"}, want: "http://example.com:80"},
		{name: "follows flag addr over env addr", env: map[string]string{"TOCSIN_ADDR": "127.0.0.1:1"}, args: []string{"--addr=127.0.0.1:2"}, want: "http://127.0.0.1:2"},
		{name: "all interfaces, empty host", env: map[string]string{"TOCSIN_ADDR": ":9000"}, want: "http://localhost:9000"},
		{name: "all interfaces, IPv4", env: map[string]string{"TOCSIN_ADDR": "0.0.0.0:9000"}, want: "http://localhost:9000"},
		{name: "all interfaces, IPv6", env: map[string]string{"TOCSIN_ADDR": "[::]:9000"}, want: "http://localhost:9000"},
		{name: "IPv6 loopback", env: map[string]string{"TOCSIN_ADDR": "[::1]:9000"}, want: "http://[::1]:9000"},
		{name: "explicit wins over addr", env: map[string]string{"TOCSIN_ADDR": "0.0.0.0:80", "TOCSIN_BASE_URL": "https://errors.example.com"}, want: "https://errors.example.com"},
		{name: "trailing slash trimmed", env: map[string]string{"TOCSIN_BASE_URL": "https://example.com/tocsin/"}, want: "https://example.com/tocsin"},
		{name: "root slash trimmed", args: []string{"--base-url=https://example.com/"}, want: "https://example.com"},
		{name: "bad addr reported as addr", env: map[string]string{"TOCSIN_ADDR": "nonsense"}, wantErr: "invalid setting addr (TOCSIN_ADDR)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			for k, v := range tc.env {
				b.env[k] = v
			}
			got, err := b.load(t, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %s…", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BaseURL != tc.want {
				t.Errorf("BaseURL = %q, want %q", got.BaseURL, tc.want)
			}
		})
	}
}

func TestLoadConfig_EnvParsing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		want    func(Config) bool
		wantErr string
	}{
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "true"}, want: func(c Config) bool { return c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "TRUE"}, want: func(c Config) bool { return c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "1"}, want: func(c Config) bool { return c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "Yes"}, want: func(c Config) bool { return c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "on"}, want: func(c Config) bool { return c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "false"}, want: func(c Config) bool { return !c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "0"}, want: func(c Config) bool { return !c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "NO"}, want: func(c Config) bool { return !c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "Off"}, want: func(c Config) bool { return !c.AllowPrivateWebhooks }},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "maybe"}, wantErr: `invalid setting allow_private_webhooks (TOCSIN_ALLOW_PRIVATE_WEBHOOKS): "maybe" is not a boolean`},
		{env: map[string]string{"TOCSIN_ALLOW_PRIVATE_WEBHOOKS": "y"}, wantErr: "TOCSIN_ALLOW_PRIVATE_WEBHOOKS"},
		{env: map[string]string{"TOCSIN_EVENT_RETENTION_DAYS": "30"}, want: func(c Config) bool { return c.EventRetentionDays == 30 }},
		{env: map[string]string{"TOCSIN_EVENT_RETENTION_DAYS": "thirty"}, wantErr: `invalid setting event_retention_days (TOCSIN_EVENT_RETENTION_DAYS): "thirty" is not a whole number`},
		{env: map[string]string{"TOCSIN_EVENT_RETENTION_DAYS": "0"}, wantErr: "invalid setting event_retention_days (TOCSIN_EVENT_RETENTION_DAYS)"},
		{env: map[string]string{"TOCSIN_SECRET_KEY": strings.Repeat("s", 64), "TOCSIN_ADMIN_EMAIL": "a@example.com", "TOCSIN_ADMIN_PASSWORD": "12345678"},
			want: func(c Config) bool {
				return c.SecretKey == strings.Repeat("s", 64) && c.AdminEmail == "a@example.com" && c.AdminPassword == "12345678"
			}},
	} {
		var name string
		for k, v := range tc.env {
			name += k + "=" + v + " "
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.env = tc.env
			got, err := b.load(t)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(got) {
				t.Errorf("unexpected config %+v", got)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("tocsin", pflag.ContinueOnError)
	registerFlags(fs)
	for _, name := range []string{
		"config", "addr", "base-url", "data-dir", "database-url", "smtp-url", "mail-from",
		"allow-private-webhooks", "slack-api-url", "github-api-url", "trello-api-url",
		"log-format", "event-retention-days",
	} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s missing", name)
		}
	}
	for _, name := range []string{"secret-key", "admin-email", "admin-password"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag --%s exists: secrets don't belong on a command line", name)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	if err := func() error { c := validConfig(); return c.validate() }(); err != nil {
		t.Fatalf("validConfig: %v", err)
	}
	for _, tc := range []struct {
		name   string
		key    string // setting the error must name; "" means valid
		modify func(c *Config)
	}{
		{"addr no port", "addr", func(c *Config) { c.Addr = "localhost" }},
		{"addr port out of range", "addr", func(c *Config) { c.Addr = "127.0.0.1:99999" }},
		{"addr port zero", "addr", func(c *Config) { c.Addr = "127.0.0.1:0" }},
		{"addr port named", "addr", func(c *Config) { c.Addr = "127.0.0.1:http" }},
		{"addr bad host", "addr", func(c *Config) { c.Addr = "exa mple:80" }},
		{"addr empty", "addr", func(c *Config) { c.Addr = "" }},
		{"addr all interfaces", "", func(c *Config) { c.Addr = ":9000" }},
		{"addr IPv6", "", func(c *Config) { c.Addr = "[::1]:9000" }},
		{"addr name", "", func(c *Config) { c.Addr = "tocsin.internal:9000" }},
		{"base_url relative", "base_url", func(c *Config) { c.BaseURL = "/tocsin" }},
		{"base_url ftp", "base_url", func(c *Config) { c.BaseURL = "ftp://example.com" }},
		{"base_url no host", "base_url", func(c *Config) { c.BaseURL = "http:///x" }},
		{"base_url query", "base_url", func(c *Config) { c.BaseURL = "https://example.com?x=1" }},
		{"base_url fragment", "base_url", func(c *Config) { c.BaseURL = "https://example.com#x" }},
		{"base_url path", "", func(c *Config) { c.BaseURL = "https://example.com/tocsin" }},
		{"data_dir empty", "data_dir", func(c *Config) { c.DataDir = "" }},
		{"database_url mysql", "database_url", func(c *Config) { c.DatabaseURL = "mysql://u:p@h/db" }},
		{"database_url postgres without host", "database_url", func(c *Config) { c.DatabaseURL = "postgres:///tocsin" }},
		{"database_url key=value", "database_url", func(c *Config) { c.DatabaseURL = "host=db dbname=tocsin" }},
		{"database_url empty sqlite", "database_url", func(c *Config) { c.DatabaseURL = "sqlite:" }},
		{"database_url empty", "", func(c *Config) { c.DatabaseURL = "" }},
		{"database_url postgresql", "", func(c *Config) { c.DatabaseURL = "postgresql://db/tocsin" }},
		{"database_url socket", "", func(c *Config) { c.DatabaseURL = "postgres:///tocsin?host=/var/run/postgresql" }},
		{"database_url sqlite", "", func(c *Config) { c.DatabaseURL = "sqlite:/srv/tocsin.db" }},
		{"database_url sqlite slashes", "", func(c *Config) { c.DatabaseURL = "sqlite://data/tocsin.db" }},
		{"database_url file", "", func(c *Config) { c.DatabaseURL = "file:tocsin.db?_pragma=busy_timeout(5000)" }},
		{"secret_key short", "secret_key", func(c *Config) { c.SecretKey = strings.Repeat("k", 31) }},
		{"secret_key empty", "", func(c *Config) { c.SecretKey = "" }},
		{"admin_email bad", "admin_email", func(c *Config) { c.AdminEmail = "admin" }},
		{"admin_email with name", "admin_email", func(c *Config) { c.AdminEmail = "Admin <admin@example.com>" }},
		{"admin_email empty", "", func(c *Config) { c.AdminEmail = "" }},
		{"admin_password short", "admin_password", func(c *Config) { c.AdminPassword = "1234567" }},
		{"admin_password empty", "", func(c *Config) { c.AdminPassword = "" }},
		{"smtp_url scheme", "smtp_url", func(c *Config) { c.SMTPURL = "http://mail.example.com" }},
		{"smtp_url no host", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://:587" }},
		{"smtp_url bad port", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://mail.example.com:70000" }},
		{"smtp_url bad tls", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://mail.example.com?tls=ssl" }},
		{"smtp_url unparsable", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://mail example.com" }},
		{"smtp_url smtps no port", "", func(c *Config) { c.SMTPURL = "smtps://mail.example.com" }},
		{"smtp_url tls none", "", func(c *Config) { c.SMTPURL = "smtp://localhost:25?tls=none" }},
		{"smtp_url empty, mail_from empty", "", func(c *Config) { c.SMTPURL, c.MailFrom = "", "" }},
		{"mail_from missing", "mail_from", func(c *Config) { c.MailFrom = "" }},
		{"mail_from bad", "mail_from", func(c *Config) { c.MailFrom = "tocsin at example" }},
		{"mail_from plain", "", func(c *Config) { c.MailFrom = "tocsin@example.com" }},
		{"slack_api_url relative", "slack_api_url", func(c *Config) { c.SlackAPIURL = "slack.com/api/" }},
		{"github_api_url scheme", "github_api_url", func(c *Config) { c.GitHubAPIURL = "git://github.com" }},
		{"github_api_url enterprise", "", func(c *Config) { c.GitHubAPIURL = "https://ghe.example.com/api/v3/" }},
		{"trello_api_url empty", "trello_api_url", func(c *Config) { c.TrelloAPIURL = "" }},
		{"trello_api_url test server", "", func(c *Config) { c.TrelloAPIURL = "http://127.0.0.1:4567/1" }},
		{"log_format", "log_format", func(c *Config) { c.LogFormat = "logfmt" }},
		{"log_format json", "", func(c *Config) { c.LogFormat = "json" }},
		{"event_retention_days zero", "event_retention_days", func(c *Config) { c.EventRetentionDays = 0 }},
		{"event_retention_days negative", "event_retention_days", func(c *Config) { c.EventRetentionDays = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tc.modify(&c)
			err := c.validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("validate accepted it")
			}
			env := "TOCSIN_" + strings.ToUpper(tc.key)
			prefix := "invalid setting " + tc.key + " (" + env + "): "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q doesn't start with %q", err, prefix)
			}
			var se *settingError
			if !errors.As(err, &se) || se.Key != tc.key || se.Env != env {
				t.Errorf("error %#v is not a *settingError for %s", err, tc.key)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

func TestConfig_Validate_PortMessage(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.Addr = "127.0.0.1:99999"
	want := `invalid setting addr (TOCSIN_ADDR): port "99999" out of range 1-65535`
	if err := c.validate(); err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestConfig_NoPasswordLeaks(t *testing.T) {
	t.Parallel()
	const pw = "hunter2secret"
	for _, tc := range []struct {
		name   string
		key    string
		modify func(c *Config)
	}{
		{"database_url bad scheme", "database_url", func(c *Config) { c.DatabaseURL = "mysql://tocsin:" + pw + "@db/tocsin" }},
		{"database_url unparsable port", "database_url", func(c *Config) { c.DatabaseURL = "postgres://tocsin:" + pw + "@db:port/tocsin" }},
		{"database_url no host", "database_url", func(c *Config) { c.DatabaseURL = "postgres://tocsin:" + pw + "@/tocsin" }},
		{"database_url slash in password", "database_url", func(c *Config) { c.DatabaseURL = "mysql://tocsin:hunter2/secret@db/tocsin" }},
		{"smtp_url bad tls", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://user:" + pw + "@mail:587?tls=ssl" }},
		{"smtp_url bad scheme", "smtp_url", func(c *Config) { c.SMTPURL = "imap://user:" + pw + "@mail:587" }},
		{"smtp_url bad port", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://user:" + pw + "@mail:99999" }},
		{"smtp_url slash in password", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://user:12345/secret@mail:587?tls=bad" }},
		{"smtp_url hash in password", "smtp_url", func(c *Config) { c.SMTPURL = "smtp://user:hunter#2secret@mail" }},
		{"smtp_url at in password", "smtp_url", func(c *Config) { c.SMTPURL = "smtps://user:hunter@2secret@mail?tls=x" }},
		{"base_url userinfo", "base_url", func(c *Config) { c.BaseURL = "https://admin:" + pw + "@errors.example.com" }},
		{"slack_api_url", "slack_api_url", func(c *Config) { c.SlackAPIURL = "ftp://u:" + pw + "@proxy/api/" }},
		{"admin_password short", "admin_password", func(c *Config) { c.AdminPassword = "hunter2" }},
		{"secret_key short", "secret_key", func(c *Config) { c.SecretKey = "hunter2secret-but-short" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tc.modify(&c)
			err := c.validate()
			if err == nil {
				t.Fatal("validate accepted it")
			}
			var se *settingError
			if !errors.As(err, &se) || se.Key != tc.key {
				t.Errorf("error %q doesn't name %s", err, tc.key)
			}
			for _, secret := range []string{"hunter", "secret@", "12345", "2secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
			if strings.Contains(err.Error(), "@") && !strings.Contains(err.Error(), "xxxxx@") {
				t.Errorf("error %q quotes a URL without redacting it", err)
			}
		})
	}
}

func TestConfig_StringRedacts(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.SecretKey = "topsecret" + strings.Repeat("k", 32)
	c.AdminPassword = "adminpassword"
	c.DatabaseURL = "postgres://tocsin:dbpassword@db/tocsin"
	c.SMTPURL = "smtp://user:smtppassword@mail:587"
	for _, s := range []string{c.String(), c.LogValue().String()} {
		for _, secret := range []string{"topsecret", "adminpassword", "dbpassword", "smtppassword"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaks %q", s, secret)
			}
		}
		if !strings.Contains(s, "mail:587") || !strings.Contains(s, "errors.example.com") {
			t.Errorf("%q leaves out settings that aren't secret", s)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://db/tocsin", "postgres://db/tocsin"},
		{"postgres://user@db/tocsin", "postgres://user@db/tocsin"},
		{"postgres://user:pw@db/tocsin", "postgres://user:xxxxx@db/tocsin"},
		{"smtp://user:p@ss/w#rd@mail:587?tls=tls", "smtp://user:xxxxx@mail:587?tls=tls"},
		{"smtp:user:pw@mail", "smtp:user:xxxxx@mail"},
		{"sqlite:/srv/tocsin.db", "sqlite:/srv/tocsin.db"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := redactURL(tc.in); got != tc.want {
				t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWriteConfigFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "srv", "tocsin") // doesn't exist yet
	path, err := writeConfigFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tocsin.toml"); path != want {
		t.Errorf("path = %q, want %q", path, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Every setting is documented with its environment variable.
	for _, s := range settings() {
		if !strings.Contains(string(content), "# Environment: "+s.env()) {
			t.Errorf("template doesn't document %s", s.env())
		}
		if !regexp.MustCompile(`(?m)^#?` + s.key + ` = `).Match(content) {
			t.Errorf("template doesn't list %s", s.key)
		}
	}

	// Loading it back, through the real loadConfig, gives the defaults plus the
	// data dir beside the file and the generated key.
	fs := pflag.NewFlagSet("tocsin", pflag.ContinueOnError)
	registerFlags(fs)
	if err := fs.Parse([]string{"--config", path}); err != nil {
		t.Fatal(err)
	}
	got, err := loadConfig(fs, func(string) string { return "" })
	if err != nil {
		t.Fatalf("load the written file: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got.SecretKey) {
		t.Errorf("SecretKey = %q, want 64 lowercase hex characters", got.SecretKey)
	}
	want := defaultConfig()
	want.BaseURL = "http://127.0.0.1:9000"
	want.DataDir = filepath.Join(dir, "tocsin-data")
	want.SecretKey = got.SecretKey
	want.ConfigFile = path
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// With every commented-out setting switched on, the file still loads, with
	// the same values: the shown defaults are the real ones.
	uncommented := regexp.MustCompile(`(?m)^#([a-z_]+ = )`).ReplaceAll(content, []byte("$1"))
	path2 := filepath.Join(t.TempDir(), "tocsin.toml")
	if err := os.WriteFile(path2, uncommented, 0o600); err != nil {
		t.Fatal(err)
	}
	b := setup(t)
	got2, err := b.load(t, "--config", path2)
	if err != nil {
		t.Fatalf("load the uncommented file: %v", err)
	}
	want.DataDir = filepath.Join(filepath.Dir(path2), "tocsin-data")
	want.ConfigFile = path2
	if got2 != want {
		t.Errorf("uncommented file:\ngot  %+v\nwant %+v", got2, want)
	}
}

func TestWriteConfigFile_RefusesOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tocsin.toml")
	const old = "# mine\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := writeConfigFile(dir)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an exist error naming %s", err, path)
	}
	if content, _ := os.ReadFile(path); string(content) != old {
		t.Errorf("file was changed to %q", content)
	}
}

func TestWriteConfigFile_FreshKeys(t *testing.T) {
	t.Parallel()
	var keys []string
	for range 2 {
		path, err := writeConfigFile(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^secret_key = "([0-9a-f]{64})"$`).FindSubmatch(content)
		if m == nil {
			t.Fatalf("no secret_key line in\n%s", content)
		}
		keys = append(keys, string(m[1]))
	}
	if keys[0] == keys[1] {
		t.Errorf("two init files got the same key %s", keys[0])
	}
}

func TestNewSecretKey(t *testing.T) {
	t.Parallel()
	a, err := newSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	if !hex64.MatchString(a) || !hex64.MatchString(b) {
		t.Errorf("keys %q, %q are not 64 lowercase hex characters", a, b)
	}
	if a == b {
		t.Errorf("two keys are equal: %s", a)
	}
}
