package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// initDataDir is the data_dir that `tocsin init` writes; relative, so it lands
// beside the config file.
const initDataDir = "tocsin-data"

// writeConfigFile writes DIR/tocsin.toml for `tocsin init [DIR]` (creating DIR if
// needed), refusing to overwrite an existing file; returns the path written. The
// file has mode 0600 because it holds a freshly generated secret key.
func writeConfigFile(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, defaultConfigFile)
	key, err := newSecretKey()
	if err != nil {
		return "", fmt.Errorf("init %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("init %s: create directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("init: refusing to overwrite %s: %w", path, err)
		}
		return "", fmt.Errorf("init %s: %w", path, err)
	}
	_, err = f.WriteString(configTemplate(key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // don't leave a half-written file that blocks the next try
		return "", fmt.Errorf("init %s: write: %w", path, err)
	}
	return path, nil
}

// configTemplate returns the commented TOML of `tocsin init`: every setting with
// its meaning, environment variable and flag; data_dir and secret_key (set to key)
// active, the others commented out showing their defaults.
func configTemplate(secretKey string) string {
	var b strings.Builder
	b.WriteString(`# Tocsin configuration, written by "tocsin init".
#
# Use it with: tocsin --config ` + "PATH/" + defaultConfigFile + ` run
# (or set TOCSIN_CONFIG=PATH/` + defaultConfigFile + `, or run Tocsin from this directory).
# Environment variables override this file, and flags override both.
# Lines starting with # show the defaults; remove the # to change a setting.
`)
	def := defaultConfig()
	for _, s := range settings() {
		b.WriteString("\n# " + upperFirst(s.doc) + ".\n")
		for _, line := range s.more {
			b.WriteString("# " + line + "\n")
		}
		b.WriteString("# Environment: " + s.env())
		if f := s.flag(); f != "" {
			b.WriteString(", flag: --" + f)
		}
		b.WriteString("\n")

		switch s.key {
		case "data_dir":
			b.WriteString(s.key + " = " + strconv.Quote(initDataDir) + "\n")
		case "secret_key":
			b.WriteString(s.key + " = " + strconv.Quote(secretKey) + "\n")
		default:
			b.WriteString("#" + s.key + " = " + tomlValue(def, s) + "\n")
		}
	}
	return b.String()
}

// tomlValue returns the default of s in def as a TOML value.
func tomlValue(def Config, s setting) string {
	if s.show != nil {
		return strconv.Quote(s.show(def))
	}
	switch p := s.field(&def).(type) {
	case *string:
		return strconv.Quote(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	}
	return `""`
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// newSecretKey returns 64 lowercase hex characters (32 bytes) from crypto/rand.
func newSecretKey() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	return hex.EncodeToString(buf), nil
}
