package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/store"
)

// newLogger returns the process logger: text or JSON on w.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore connects to the configured store. Its errors name the address
// with the password masked and carry the driver's reason.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{
		DatabaseURL: cfg.DatabaseURL,
		DataDir:     cfg.DataDir,
		Logger:      log,
		Registerer:  reg,
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// secretKeyFile holds the generated secret key inside the data dir.
const secretKeyFile = "secret.key"

// secretKey returns the configured secret key or the one generated into
// the data dir on first start. Processes of one deployment must share it:
// through TOCSIN_SECRET_KEY, or a shared data dir.
func secretKey(cfg Config) (key string, generated bool, err error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, false, nil
	}
	path := filepath.Join(cfg.DataDir, secretKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return "", false, fmt.Errorf("secret key in %s is shorter than 32 characters", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read secret key: %w", err)
	}
	if key, err = newSecretKey(); err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process of this deployment wrote it first; use theirs.
		return secretKey(cfg)
	}
	if err != nil {
		return "", false, fmt.Errorf("write secret key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		_ = f.Close()
		return "", false, fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write secret key: %w", err)
	}
	return key, true, nil
}
