package integrations

import (
	"bytes"
	"strings"
	"testing"
)

func TestSecretBox(t *testing.T) {
	t.Parallel()
	box, err := NewSecretBox(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"bot_token":"xoxb-secret"}`)
	sealed, err := box.Seal(plain, 7)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("xoxb")) {
		t.Fatal("sealed data shows the secret")
	}
	if got, err := box.Open(sealed, 7); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, 8); err == nil {
		t.Error("a secret sealed for integration 7 opened for 8")
	}
	other, _ := NewSecretBox(strings.Repeat("x", 40))
	if _, err := other.Open(sealed, 7); err == nil {
		t.Error("another secret key opened the secret")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed, 7); err == nil {
		t.Error("tampered data opened")
	}
	if _, err := NewSecretBox("short"); err == nil {
		t.Error("a short secret key was accepted")
	}
}
