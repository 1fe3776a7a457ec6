package integrations

import (
	"context"
	"fmt"
)

// Provider describes one kind of integration to the API and the worker:
// its settings (which of them are secret and never shown again), how to
// check them, and how to build its Notifier.
type Provider struct {
	Name   string
	Fields []Field
	// Validate checks the settings; config holds the non-secret fields,
	// secrets the secret ones.
	Validate func(config, secrets map[string]any) error
	// Build makes the notifier of one integration.
	Build func(config, secrets map[string]any) (Notifier, error)
	// Check asks the service whether the credentials work (auth.test,
	// GET /user…); nil when the provider cannot check.
	Check func(ctx context.Context, n Notifier) error
	// PerTarget says the service limits each target separately (a
	// repository, a URL) rather than the whole integration.
	PerTarget bool
	// Digests says the notifier renders KindDigest (a channel or an inbox
	// takes a list of issues; a GitHub issue or a Trello card is one
	// issue): rule actions may then collect its notifications into digests.
	Digests bool
}

// Field is one setting of a provider.
type Field struct {
	Name     string
	Secret   bool
	Required bool
	List     bool // a list of strings rather than a string
}

// Split separates submitted settings into the non-secret and secret ones,
// refusing unknown fields and wrong types so that a typo is not silently
// ignored.
func (p *Provider) Split(in map[string]any) (config, secrets map[string]any, err error) {
	config, secrets = map[string]any{}, map[string]any{}
	known := map[string]Field{}
	for _, f := range p.Fields {
		known[f.Name] = f
	}
	for k, v := range in {
		f, ok := known[k]
		if !ok {
			return nil, nil, fmt.Errorf("config.%s: unknown setting for %s", k, p.Name)
		}
		if v == nil {
			continue
		}
		switch {
		case f.List:
			l, ok := v.([]any)
			if !ok {
				return nil, nil, fmt.Errorf("config.%s: expected a list of strings", k)
			}
			for _, it := range l {
				if _, ok := it.(string); !ok {
					return nil, nil, fmt.Errorf("config.%s: expected a list of strings", k)
				}
			}
		default:
			s, ok := v.(string)
			if !ok {
				return nil, nil, fmt.Errorf("config.%s: expected a string", k)
			}
			if len(s) > 4096 {
				return nil, nil, fmt.Errorf("config.%s: too long", k)
			}
		}
		if f.Secret {
			secrets[k] = v
		} else {
			config[k] = v
		}
	}
	return config, secrets, nil
}
