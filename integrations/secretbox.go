package integrations

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// SecretBox seals integration secrets (bot tokens, API keys, webhook
// secrets) for storage with AES-256-GCM under a key derived from
// TOCSIN_SECRET_KEY, so a copy of the database alone reveals none of them.
type SecretBox struct {
	aead cipher.AEAD
}

// sealVersion prefixes sealed data so the scheme can change later.
const sealVersion = 1

// NewSecretBox derives the sealing key from the deployment's secret key.
func NewSecretBox(secretKey string) (*SecretBox, error) {
	if len(secretKey) < 32 {
		return nil, errors.New("secret box: the secret key must have at least 32 characters")
	}
	key, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "tocsin integration secrets v1", 32)
	if err != nil {
		return nil, fmt.Errorf("secret box: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret box: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts plaintext; the integration id is bound as associated data,
// so a sealed blob moved to another integration does not open.
func (b *SecretBox) Seal(plaintext []byte, integrationID int64) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret box: nonce: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, ad(integrationID)), nil
}

// Open decrypts what Seal sealed for the same integration.
func (b *SecretBox) Open(sealed []byte, integrationID int64) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("secret box: not a sealed secret")
	}
	out, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad(integrationID))
	if err != nil {
		return nil, errors.New("secret box: cannot open (wrong secret key or tampered data)")
	}
	return out, nil
}

func ad(integrationID int64) []byte {
	return fmt.Appendf(nil, "integration:%d", integrationID)
}
